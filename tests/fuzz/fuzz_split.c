/*
 * fuzz_split.c: the split reader (gfuse_i_cohort_read_split, src/cohort/cohort_load.c) on
 * arbitrary bytes, as a .csv file read into a fresh cohort of fuzz_cohort.h.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "cohort/cohort.h"
#include "tests/fuzz/fuzz_cohort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("split.csv", data, size);
    gfuse_cohort *c = fuzz_cohort();
    fuzz_cohort_read(c, gfuse_i_cohort_read_split(c, path));
    gfuse_cohort_free(&c);
    return 0;
}
