/*
 * replay.c — runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs,
 * without libFuzzer, so any compiler (and the ASan build) can run the corpus
 * as a regression test.
 *
 * Usage: <target>_replay PATH...   (a PATH is a file or a directory; a
 * directory's regular files are run in name order, dotfiles skipped, no
 * recursion).
 *
 * DESIGN
 * - Each input runs in a child process (fork), so one crashing input — an
 *   abort() from a broken invariant, a sanitizer report — does not hide the
 *   others: every input runs and every failure is named in the summary. The
 *   child ends with exit(), not _exit(), so LeakSanitizer checks it.
 *   REPLAY_NO_FORK=1 runs everything in this process instead (for a
 *   debugger); then the first crash ends the run.
 * - The input is handed over in an exact-size heap buffer, so reading one
 *   byte past it is caught by ASan, as under libFuzzer.
 *
 * Exit status: 0 when at least one input ran and none failed; 1 when an
 * input failed or none ran; 2 on an unreadable path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int use_fork = 1;
static size_t nfailed;

/* Runs one input; in a child process unless use_fork is 0. Returns 0 when
 * it ran cleanly. */
static int run_input(const char *path, const uint8_t *data, size_t len)
{
    if (!use_fork) {
        LLVMFuzzerTestOneInput(data, len);
        return 0;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "replay: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        LLVMFuzzerTestOneInput(data, len);
        exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFSIGNALED(st))
        fprintf(stderr, "replay: FAILED %s (signal %d)\n", path, WTERMSIG(st));
    else
        fprintf(stderr, "replay: FAILED %s (exit status %d)\n", path, WEXITSTATUS(st));
    return -1;
}

static int run_file(const char *path, size_t *ran)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(data, cap);
            if (!p) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                free(data);
                fclose(f);
                return -1;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(data);
        return -1;
    }
    /* An exact-size copy, so that reading one byte past the input is caught
     * by ASan just as under libFuzzer. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(data);
        return -1;
    }
    if (len)
        memcpy(exact, data, len);
    free(data);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    if (run_input(path, exact, len) != 0)
        nfailed++;
    free(exact);
    (*ran)++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *ran)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *names);
            if (!p) {
                rc = -1;
                goto done;
            }
            names = p;
        }
        size_t plen = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(plen);
        if (!names[n]) {
            rc = -1;
            goto done;
        }
        snprintf(names[n], plen, "%s/%s", dir, de->d_name);
        n++;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i], ran) != 0)
            rc = -1;
    }
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    const char *nf = getenv("REPLAY_NO_FORK");
    use_fork = !(nf && *nf && strcmp(nf, "0") != 0);
    size_t ran = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 2;
        } else if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &ran) : run_file(argv[i], &ran)) {
            rc = 2;
        }
    }
    printf("replay: %zu inputs ran, %zu failed\n", ran, nfailed);
    if (rc)
        return rc;
    if (ran == 0) {
        fprintf(stderr, "replay: no inputs ran\n");
        return 1;
    }
    return nfailed ? 1 : 0;
}
