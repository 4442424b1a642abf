/* gnuplot.c — a pipe to gnuplot that yields a whole SVG or nothing (see
 * gnuplot.h). */
#include "gnuplot.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gp_on_path(const char *prog)
{
    const char *p = getenv("PATH");
    size_t plen = strlen(prog);
    while (p && *p) {
        size_t n = strcspn(p, ":");
        char *f = malloc(n + plen + 2);
        if (!f)
            return 0;
        snprintf(f, n + plen + 2, "%.*s/%s", (int)n, p, prog);
        int ok = n && access(f, X_OK) == 0;
        free(f);
        if (ok)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* Appends S to the shell command in B as one single-quoted word, so any
 * path (quotes and spaces included) reaches gnuplot's redirection intact. */
static char *shell_word(char *b, const char *s)
{
    *b++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(b, "'\\''", 4);
            b += 4;
        } else {
            *b++ = *s;
        }
    }
    *b++ = '\'';
    *b = 0;
    return b;
}

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *r = malloc(na + nb + 1);
    if (r) {
        memcpy(r, a, na);
        memcpy(r + na, b, nb + 1);
    }
    return r;
}

static void release(gp_plot *p)
{
    free(p->path), free(p->tmp), free(p->log);
    p->path = p->tmp = p->log = NULL;
    p->f = NULL;
}

int gp_open(gp_plot *p, const char *path, char *err, size_t n)
{
    memset(p, 0, sizeof *p);
    if (!gp_on_path("gnuplot"))
        return GP_MISSING;
    p->path = concat(path, "");
    p->tmp = concat(path, ".tmp");
    p->log = concat(path, ".tmp.log");
    /* Each quote may grow to 4 bytes; plus the fixed words. */
    char *cmd = malloc(8 * strlen(path) + 64);
    if (!p->path || !p->tmp || !p->log || !cmd) {
        free(cmd);
        release(p);
        snprintf(err, n, "out of memory");
        return GP_FAILED;
    }
    char *e = cmd + sprintf(cmd, "exec gnuplot > ");
    e = shell_word(e, p->tmp);
    e += sprintf(e, " 2> ");
    shell_word(e, p->log);
    /* A gnuplot that dies early must not kill us with SIGPIPE. */
    p->old_pipe = signal(SIGPIPE, SIG_IGN);
    p->f = popen(cmd, "w");
    free(cmd);
    if (!p->f) {
        signal(SIGPIPE, p->old_pipe);
        snprintf(err, n, "cannot start gnuplot: %s", strerror(errno));
        release(p);
        return GP_FAILED;
    }
    return GP_OK;
}

int gp_close(gp_plot *p, char *err, size_t n)
{
    int st = pclose(p->f);
    signal(SIGPIPE, p->old_pipe);
    char why[1024] = "";
    FILE *lf = fopen(p->log, "r");
    if (lf) {
        size_t k = fread(why, 1, sizeof why - 1, lf);
        why[k] = 0;
        fclose(lf);
    }
    remove(p->log);
    int rc = GP_OK;
    if (st != 0) {
        remove(p->tmp);
        snprintf(err, n, "gnuplot failed drawing '%s': %s", p->path,
                 why[0] ? why : "(no message)");
        rc = GP_FAILED;
    } else if (rename(p->tmp, p->path) != 0) {
        int e = errno;
        remove(p->tmp);
        snprintf(err, n, "cannot write '%s': %s", p->path, strerror(e));
        rc = GP_FAILED;
    }
    release(p);
    return rc;
}

void gp_quote(FILE *f, const char *t)
{
    fputc('"', f);
    for (; *t; t++) {
        if (*t == '"' || *t == '\\')
            fputc('\\', f);
        if (*t == '_' || *t == '^' || *t == '{' || *t == '}' || *t == '@' || *t == '&')
            fputs("\\\\", f); /* gnuplot's enhanced text: show them literally */
        fputc(*t == '\n' ? ' ' : *t, f);
    }
    fputc('"', f);
}
