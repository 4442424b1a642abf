/* repl_term.c — the terminal side of `drivec repl`: line editing, history
 * and Tab completion through libedit when standard input is a terminal;
 * plain line reading, without prompts, when it is not (scripts, tests).
 * Ctrl-C cancels the line being typed, or stops a running step.
 */
#include "repl.h"

#include <errno.h>
#include <histedit.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

static void on_sigint(int sig)
{
    (void)sig;
    repl_interrupt();
}

/* Ctrl-C sets the REPL's flag. While the prompt waits for a line, it also
 * interrupts the read (no SA_RESTART), which cancels the line; everywhere
 * else reads and writes restart, so no output is lost to EINTR. */
static void catch_sigint(int interrupt_reads)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = interrupt_reads ? 0 : SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
}

/* Where history persists: $DRIVE_HISTORY (empty: nowhere), else
 * ~/.drive_history. malloc'd, or NULL. */
static char *history_path(void)
{
    const char *e = getenv("DRIVE_HISTORY");
    if (e)
        return *e ? strdup(e) : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    size_t n = strlen(home) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/.drive_history", home);
    return p;
}

/* ---- appending lines until an input is complete ----------------------------- */

typedef struct buf {
    char *text;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s)
{
    size_t n = strlen(s);
    /* Scripts written on Windows: CR LF ends a line as LF does. */
    if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
        n -= 2;
    else if (n >= 1 && s[n - 1] == '\r')
        n--;
    if (b->len + n + 2 > b->cap) {
        b->cap = (b->len + n + 2) * 2;
        char *t = realloc(b->text, b->cap);
        if (!t) {
            fputs("drivec: out of memory\n", stderr);
            abort();
        }
        b->text = t;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    if (!n || b->text[b->len - 1] != '\n')
        b->text[b->len++] = '\n';
    b->text[b->len] = 0;
}

/* A command line (":...") while a definition is still open: the definition
 * was left unfinished, so it is taken as it is (its error shows) before the
 * command runs, rather than swallowing the command. */
static int command_line(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == ':';
}

/* ---- libedit ---------------------------------------------------------------- */

typedef struct term {
    repl *r;
    int more; /* a continuation line */
} term;

static char *prompt(EditLine *el)
{
    term *t;
    el_get(el, EL_CLIENTDATA, &t);
    return t->more ? "  ...> " : "drive> ";
}

/* Tab: the unique completion, else the longest common prefix, else the
 * candidates listed under the line. */
static unsigned char complete(EditLine *el, int ch)
{
    (void)ch;
    term *t;
    el_get(el, EL_CLIENTDATA, &t);
    const LineInfo *li = el_line(el);
    size_t cursor = (size_t)(li->cursor - li->buffer);
    char *line = strndup(li->buffer, cursor);
    if (!line)
        return CC_ERROR;
    size_t start;
    char **c = repl_complete(t->r, line, cursor, &start);
    size_t typed = cursor - start;
    free(line);
    if (!c)
        return CC_ERROR;
    size_t n = 0, common = strlen(c[0]);
    for (; c[n]; n++)
        for (size_t k = 0; k < common; k++)
            if (c[n][k] != c[0][k]) {
                common = k;
                break;
            }
    unsigned char rc = CC_REFRESH;
    if (common > typed) {
        char *ins = strndup(c[0] + typed, common - typed);
        if (ins && el_insertstr(el, ins) == -1)
            rc = CC_ERROR;
        free(ins);
        if (n == 1 && c[0][common - 1] != '/')
            el_insertstr(el, " ");
    } else if (n == 1) {
        if (c[0][common ? common - 1 : 0] != '/')
            el_insertstr(el, " ");
    } else {
        fputc('\n', stdout);
        size_t width = 0;
        for (size_t i = 0; i < n; i++)
            width = strlen(c[i]) > width ? strlen(c[i]) : width;
        size_t per = 78 / (width + 2);
        per = per ? per : 1;
        for (size_t i = 0; i < n; i++)
            printf("%-*s%s", (int)width + 2, c[i], (i + 1) % per == 0 || i + 1 == n ? "\n" : "");
        fflush(stdout);
        rc = CC_REDISPLAY;
    }
    repl_free_list(c);
    return rc;
}

static int interactive(repl *r)
{
    term t = { r, 0 };
    EditLine *el = el_init("drive", stdin, stdout, stderr);
    History *h = history_init();
    if (!el || !h) {
        fputs("drivec: error: cannot start line editing\n", stderr);
        if (el)
            el_end(el);
        if (h)
            history_end(h);
        return 1;
    }
    HistEvent ev;
    history(h, &ev, H_SETSIZE, 2000);
    history(h, &ev, H_SETUNIQUE, 1);
    char *hist = history_path();
    if (hist)
        history(h, &ev, H_LOAD, hist);
    el_set(el, EL_CLIENTDATA, &t);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, h);
    el_set(el, EL_ADDFN, "drive-complete", "complete a command, name or file", complete);
    el_set(el, EL_BIND, "^I", "drive-complete", NULL);
    el_source(el, NULL); /* the user's ~/.editrc, as every libedit program */

    buf b = { 0 };
    for (;;) {
        int count = 0;
        t.more = b.len > 0;
        errno = 0;
        catch_sigint(1);
        const char *line = el_gets(el, &count);
        int read_errno = errno;
        catch_sigint(0);
        errno = read_errno;
        if (!line) {
            if (count == -1 && errno == EINTR) { /* Ctrl-C: drop what was typed */
                fputc('\n', stdout);
                b.len = 0;
                repl_interrupt(); /* consumed by the next step's start */
                continue;
            }
            if (b.len) { /* Ctrl-D inside a definition: take it as it is */
                fputc('\n', stdout);
                repl_eval(r, b.text);
                b.len = 0;
            }
            fputc('\n', stdout);
            break;
        }
        if (line[0] && line[0] != '\n') {
            char *entry = strdup(line);
            if (entry) {
                entry[strcspn(entry, "\n")] = 0;
                history(h, &ev, H_ENTER, entry);
                free(entry);
            }
        }
        if (b.len && command_line(line)) {
            repl_eval(r, b.text);
            b.len = 0;
        }
        buf_add(&b, line);
        if (repl_incomplete(b.text))
            continue;
        int rc = repl_eval(r, b.text);
        b.len = 0;
        if (rc == REPL_QUIT)
            break;
    }
    if (hist) {
        history(h, &ev, H_SAVE, hist);
        free(hist);
    }
    free(b.text);
    history_end(h);
    el_end(el);
    return 0;
}

/* Lines from a pipe or file: no prompts; the exit status says whether any
 * input failed (1), or that Ctrl-C stopped the script (130). */
static int scripted(repl *r)
{
    buf b = { 0 };
    char *line = NULL;
    size_t cap = 0;
    int failed = 0, rc = REPL_OK;
    while (getline(&line, &cap, stdin) >= 0 && !repl_interrupted()) {
        if (b.len && command_line(line)) {
            failed |= repl_eval(r, b.text) == REPL_ERROR;
            b.len = 0;
        }
        buf_add(&b, line);
        if (repl_incomplete(b.text))
            continue;
        rc = repl_eval(r, b.text);
        failed |= rc == REPL_ERROR;
        b.len = 0;
        if (rc == REPL_QUIT)
            break;
    }
    int stopped = repl_interrupted();
    if (b.len && rc != REPL_QUIT && !stopped)
        failed |= repl_eval(r, b.text) == REPL_ERROR;
    free(line);
    free(b.text);
    if (stopped || repl_interrupted()) {
        fputs("drivec: interrupted\n", stderr);
        return 130;
    }
    return failed;
}

int repl_main(const char *const *files, int n_files, const char *const *include, int n_include,
              int timings)
{
    int tty = isatty(STDIN_FILENO);
    /* Results and diagnostics interleave in the order they happen. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    repl_opts o = { .out = stdout, .err = stderr, .include = include, .n_include = n_include,
                    .color = diag_want_color(stderr), .timings = timings,
                    .progress = isatty(STDERR_FILENO) };
    repl *r = repl_new(&o);
    if (!r)
        return 1;
    struct sigaction old;
    sigaction(SIGINT, NULL, &old);
    catch_sigint(0);
    int failed = 0;
    for (int i = 0; i < n_files; i++)
        failed |= repl_load_file(r, files[i]) != REPL_OK;
    if (tty)
        printf("drive REPL: :help lists the commands, Tab completes, Ctrl-D leaves\n");
    int rc = tty ? interactive(r) : scripted(r);
    repl_free(r);
    sigaction(SIGINT, &old, NULL);
    return tty ? 0 : rc ? rc : failed;
}
