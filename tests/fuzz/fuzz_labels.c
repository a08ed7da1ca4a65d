/*
 * fuzz_labels.c: the labels reader (gfuse_i_cohort_read_labels, src/cohort/cohort_load.c) on
 * arbitrary bytes, as a .csv file read for each task (auto, classify, regress) into a fresh
 * cohort of fuzz_cohort.h.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "cohort/cohort.h"
#include "tests/fuzz/fuzz_cohort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gfuse_task tasks[] = {GFUSE_TASK_AUTO, GFUSE_TASK_CLASSIFY, GFUSE_TASK_REGRESS};
    const char *path = fuzz_write("labels.csv", data, size);
    for (int k = 0; k < 3; k++) {
        gfuse_cohort *c = fuzz_cohort();
        fuzz_cohort_read(c, gfuse_i_cohort_read_labels(c, path, tasks[k]));
        gfuse_cohort_free(&c);
    }
    return 0;
}
