/*
 * fuzz_labels.c: the labels reader (gfuse_i_cohort_read_labels, src/cohort/cohort_load.c) on
 * arbitrary bytes, as a .csv file read for each task (auto, classify, regress) into a fresh
 * cohort of fuzz_cohort.h.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "cohort/cohort.h"
#include "tests/fuzz/fuzz_cohort.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gfuse_task tasks[] = {GFUSE_TASK_AUTO, GFUSE_TASK_CLASSIFY, GFUSE_TASK_REGRESS};
    fuzz_setup();
    const char *path = fuzz_write("labels.csv", data, size);
    for (int k = 0; k < 3; k++) {
        gfuse_cohort *c = fuzz_cohort();
        gfuse_status st = gfuse_i_cohort_read_labels(c, path, tasks[k]);
        fuzz_expect(st);
        if (st == GFUSE_OK) fuzz_check_cohort(c);
        gfuse_cohort_free(&c);
    }
    return 0;
}
