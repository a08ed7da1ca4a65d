/*
 * fuzz_mask.c: the mask reader (gfuse_i_cohort_apply_mask, src/cohort/cohort_load.c) on
 * arbitrary bytes, as a .csv file applied to a fresh cohort of fuzz_cohort.h. A mask only
 * hides: a sample that had no modality before cannot have one after.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "cohort/cohort.h"
#include "tests/fuzz/fuzz_cohort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("mask.csv", data, size);
    gfuse_cohort *c = fuzz_cohort();
    int before[6][2];
    for (int i = 0; i < 6; i++)
        for (int m = 0; m < 2; m++) before[i][m] = gfuse_cohort_has_modality(c, i, m);
    if (fuzz_cohort_read(c, gfuse_i_cohort_apply_mask(c, path)))
        for (int i = 0; i < 6; i++)
            for (int m = 0; m < 2; m++)
                if (gfuse_cohort_has_modality(c, i, m) && !before[i][m]) abort();
    gfuse_cohort_free(&c);
    return 0;
}
