/* grb_ref.c: the aggregation product A . H as a serial reference and an OpenMP kernel and,
 * with GraphBLAS, the zero-copy hand-over of the graph's CSR and the GrB_mxm product (see
 * grb_ref.h). Test and benchmark support, compiled into the programs that use it. */
#include "grb_ref.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

static inline void spmm_row(const struct gfuse_graph *g, const float *h, int64_t f, float *out,
                            int64_t v)
{
    float *o = out + v * f;
    memset(o, 0, (size_t)f * sizeof *o);
    for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
        const float *hs = h + g->in_src[e] * f;
        float w = g->in_w[e];
        for (int64_t c = 0; c < f; c++) o[c] += w * hs[c];
    }
}

void gfuse_i_graph_spmm_serial(const struct gfuse_graph *g, const float *h, int64_t f,
                               float *out)
{
    for (int64_t v = 0; v < g->n_nodes; v++) spmm_row(g, h, f, out, v);
}

void gfuse_i_graph_spmm(const struct gfuse_graph *g, const float *h, int64_t f, float *out)
{
    const int64_t *order = g->row_order;
#pragma omp parallel for schedule(dynamic, 256) if (g->n_edges * f > 65536)
    for (int64_t t = 0; t < g->n_nodes; t++) spmm_row(g, h, f, out, order ? order[t] : t);
}

#if HAVE_GRAPHBLAS
static gfuse_status grb_fail(GrB_Info info, const char *what)
{
    if (info == GrB_OUT_OF_MEMORY) return gfuse_i_nomem(what);
    return gfuse_i_error(GFUSE_ERR_RUNTIME, "GraphBLAS failed in %s (GrB_Info %d)", what,
                         (int)info);
}

static int grb_ready;

static void grb_ref_finalize(void) { GrB_finalize(); }

gfuse_status grb_ref_init(void)
{
    if (!grb_ready) {
        GrB_Info info = GrB_init(GrB_NONBLOCKING);
        if (info != GrB_SUCCESS && info != GrB_INVALID_VALUE /* already initialised */)
            return grb_fail(info, "GrB_init");
        if (info == GrB_SUCCESS) atexit(grb_ref_finalize);
        grb_ready = 1;
    }
    GrB_Info info = GxB_Global_Option_set(GxB_NTHREADS, gfuse_get_threads());
    if (info != GrB_SUCCESS) return grb_fail(info, "setting the GraphBLAS thread count");
    return GFUSE_OK;
}

gfuse_status gfuse_i_graph_pack(struct gfuse_graph *g, GrB_Matrix *A)
{
    *A = NULL;
    gfuse_status st = grb_ref_init();
    if (st != GFUSE_OK) return st;
    GrB_Index nn = (GrB_Index)g->n_nodes, ne = (GrB_Index)g->n_edges;
    GrB_Info info = GrB_Matrix_new(A, GrB_FP32, nn, nn);
    if (info != GrB_SUCCESS) return grb_fail(info, "GrB_Matrix_new");
    info = GxB_Matrix_Option_set(*A, GxB_FORMAT, GxB_BY_ROW);
    if (info == GrB_SUCCESS) info = GxB_Matrix_Option_set(*A, GxB_SPARSITY_CONTROL, GxB_SPARSE);
    if (info != GrB_SUCCESS) {
        GrB_Matrix_free(A);
        return grb_fail(info, "GxB_Matrix_Option_set");
    }
    GrB_Index *ap = (GrB_Index *)g->in_ptr, *aj = (GrB_Index *)g->in_src;
    void *ax = g->in_w;
    /* the arrays were allocated with at least one element each */
    info = GxB_Matrix_pack_CSR(*A, &ap, &aj, &ax, (nn + 1) * sizeof(GrB_Index),
                               (ne > 0 ? ne : 1) * sizeof(GrB_Index),
                               (ne > 0 ? ne : 1) * sizeof(float), false, false, NULL);
    if (info != GrB_SUCCESS) {
        GrB_Matrix_free(A);
        return grb_fail(info, "GxB_Matrix_pack_CSR");
    }
    g->in_ptr = NULL;
    g->in_src = NULL;
    g->in_w = NULL;
    return GFUSE_OK;
}

gfuse_status gfuse_i_graph_unpack(struct gfuse_graph *g, GrB_Matrix *A)
{
    GrB_Index *ap = NULL, *aj = NULL, ap_size = 0, aj_size = 0, ax_size = 0;
    void *ax = NULL;
    bool iso = false, jumbled = false;
    GrB_Info info = GxB_Matrix_unpack_CSR(*A, &ap, &aj, &ax, &ap_size, &aj_size, &ax_size, &iso,
                                          &jumbled, NULL);
    if (info != GrB_SUCCESS) return grb_fail(info, "GxB_Matrix_unpack_CSR");
    GrB_Matrix_free(A);
    g->in_ptr = (int64_t *)ap;
    g->in_src = (int64_t *)aj;
    g->in_w = ax;
    if (iso || jumbled)
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "GraphBLAS returned the graph %s",
                             iso ? "as an iso matrix" : "with unsorted rows");
    return GFUSE_OK;
}

gfuse_status gfuse_i_graph_spmm_graphblas(struct gfuse_graph *g, const float *h, int64_t f,
                                          float *out)
{
    GrB_Matrix a = NULL, hm = NULL, c = NULL;
    GrB_Index *ri = NULL, *ci = NULL;
    float *cx = NULL;
    gfuse_status st = grb_ref_init();
    if (st != GFUSE_OK) return st;
    GrB_Index nn = (GrB_Index)g->n_nodes, nf = (GrB_Index)f, nvals = 0;
    void *hx = malloc((size_t)(nn * nf > 0 ? nn * nf : 1) * sizeof(float));
    if (!hx) return gfuse_i_nomem("the GraphBLAS operand");
    memcpy(hx, h, (size_t)(nn * nf) * sizeof(float));
    GrB_Info info = GrB_Matrix_new(&hm, GrB_FP32, nn, nf);
    if (info == GrB_SUCCESS)
        info = GxB_Matrix_pack_FullR(hm, &hx, (nn * nf > 0 ? nn * nf : 1) * sizeof(float), false,
                                     NULL);
    if (info != GrB_SUCCESS) {
        st = grb_fail(info, "packing the dense operand");
        goto done;
    }
    st = gfuse_i_graph_pack(g, &a);
    if (st != GFUSE_OK) goto done;
    info = GrB_Matrix_new(&c, GrB_FP32, nn, nf);
    if (info == GrB_SUCCESS)
        info = GrB_mxm(c, NULL, NULL, GrB_PLUS_TIMES_SEMIRING_FP32, a, hm, NULL);
    if (info == GrB_SUCCESS) info = GrB_Matrix_nvals(&nvals, c);
    if (info != GrB_SUCCESS) {
        st = grb_fail(info, "GrB_mxm");
        goto unpack;
    }
    ri = malloc((size_t)(nvals > 0 ? nvals : 1) * sizeof *ri);
    ci = malloc((size_t)(nvals > 0 ? nvals : 1) * sizeof *ci);
    cx = malloc((size_t)(nvals > 0 ? nvals : 1) * sizeof *cx);
    if (!ri || !ci || !cx) {
        st = gfuse_i_nomem("the GraphBLAS result");
        goto unpack;
    }
    info = GrB_Matrix_extractTuples_FP32(ri, ci, cx, &nvals, c);
    if (info != GrB_SUCCESS) {
        st = grb_fail(info, "GrB_Matrix_extractTuples");
        goto unpack;
    }
    memset(out, 0, (size_t)(nn * nf) * sizeof *out);
    for (GrB_Index t = 0; t < nvals; t++) out[ri[t] * nf + ci[t]] = cx[t];
unpack:
    if (a) {
        gfuse_status st2 = gfuse_i_graph_unpack(g, &a);
        if (st == GFUSE_OK) st = st2;
    }
done:
    free(hx); /* NULL once packed */
    GrB_Matrix_free(&hm);
    GrB_Matrix_free(&c);
    free(ri);
    free(ci);
    free(cx);
    return st;
}

#endif
