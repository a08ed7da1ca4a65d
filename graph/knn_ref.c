/* knn_ref.c: the plain serial twin of the kNN kernel: every (node, candidate) pair scored in
 * double precision, the best k kept by insertion. Tests compare the kernel against it. */
#include "graph/knn_prep.h"
#include "core/util.h"

#include <stdlib.h>

gfuse_status gfuse_i_knn_ref(gfuse_i_knn *out, const gfuse_i_view *view,
                             const gfuse_graph_options *o, const uint8_t *sender)
{
    gfuse_i_knn_prep p;
    gfuse_status st = gfuse_i_knn_prep_init(&p, view, o, sender);
    if (st != GFUSE_OK) return st;
    int k = o->k;
    double *top_sim = gfuse_i_alloc(k, sizeof *top_sim);
    int64_t *top_idx = gfuse_i_alloc(k, sizeof *top_idx);
    if (!top_sim || !top_idx) {
        st = gfuse_i_nomem("the reference kNN lists");
        goto done;
    }
    st = gfuse_i_knn_alloc(out, &p);
    if (st != GFUSE_OK) goto done;
    for (int m = 0; m < p.n_mod; m++) {
        const gfuse_i_knn_mod *md = &p.mod[m];
        for (int64_t i = 0; i < p.n; i++) {
            int len = 0;
            for (int64_t t = 0; t < md->n_cand; t++) {
                int64_t j = md->cand[t];
                if (j == i) continue;
                int shared;
                double s = gfuse_i_knn_node_sim(&p, m, i, j, &shared);
                if (shared > 0) gfuse_i_top_insert(top_sim, top_idx, &len, k, s, j);
            }
            int64_t v = (int64_t)m * p.n + i;
            out->count[v] = len;
            for (int t = 0; t < len; t++) {
                out->nbr[v * k + t] = top_idx[t];
                out->sim[v * k + t] = (float)top_sim[t];
            }
        }
    }
done:
    free(top_sim);
    free(top_idx);
    gfuse_i_knn_prep_free(&p);
    return st;
}
