/* checkpoint.c — checkpoints of a population (drive.h: drive_save,
 * drive_restore, drive_restore_report): the state blocks of every instance
 * written to one file that names the circuit and lists its fields, restored
 * exactly or, across circuits, field by field. The format is specified in
 * checkpoint_format.md; this file is its only writer and reader. The file
 * holds each instance's block in the single-instance layout; the population
 * holds them in columns (drive_abi.h), so a save gathers each instance out
 * of the columns and a restore scatters it back (host.h: host_layout).
 *
 * Two promises shape the code. A save never damages the previous checkpoint:
 * it writes a temporary file beside the target, syncs it, renames it over the
 * target and syncs the directory. A restore never damages the population:
 * the whole file is read into memory, checked (checksum, then every count,
 * length and offset against the bytes actually there, since a hostile file
 * can carry a valid checksum) and matched against the circuit before a
 * single byte of the population is written.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define CKPT_MAGIC "DRIVECKP" /* the first 8 bytes, no terminator */
#define CKPT_MAGIC_LEN 8
#define CKPT_VERSION 1u
#define CKPT_HEADER 40     /* bytes of the fixed part of the header */
#define CKPT_FIELD_HEAD 12 /* bytes of a field entry before its name */
#define CKPT_CHECKSUM 8
/* The longest module, circuit, hash or field name a file may hold. Far above
 * any real name, and low enough that a hostile length is refused by this
 * bound, with its own message, before it is compared with the file size. */
#define CKPT_NAME_MAX 65536u
/* Names listed per group in a by-name report before "and N more". */
#define REPORT_NAMES 16

/* What the last drive_restore of this thread did; the one global of the file
 * because drive_restore_report() takes no handle. */
static _Thread_local char restore_report[8192];

/* ---- shared --------------------------------------------------------------- */

/* State blocks are stored as one instance's block is in memory, which is
 * the file's little-endian encoding only on a little-endian host (doubles
 * included). */
static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int is_stored(const drive_field *f)
{
    return f->kind == DRIVE_ABI_PARAM || f->kind == DRIVE_ABI_STATE;
}

static uint32_t count_stored(const drive_abi_circuit *a)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->n_fields; i++)
        if (is_stored(&a->fields[i]))
            n++;
    return n;
}

static uint32_t type_width(uint8_t type) { return type == DRIVE_ABI_BOOL ? 1 : 8; }

static const char *or_empty(const char *s) { return s ? s : ""; }

/* ---- save ----------------------------------------------------------------- */

typedef struct {
    FILE *f;
    uint64_t hash; /* FNV-1a of everything written so far */
    int failed;
} writer;

static void put(writer *w, const void *data, size_t len)
{
    w->hash = host_hash(w->hash, data, len);
    if (len && fwrite(data, 1, len, w->f) != len)
        w->failed = 1;
}

static void put_u8(writer *w, uint8_t v) { put(w, &v, 1); }

static void put_u32(writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, 8);
}

static void put_str(writer *w, const char *s)
{
    size_t len = strlen(s);
    put_u32(w, (uint32_t)len);
    put(w, s, len);
}

/* The directory holding path, for syncing the rename into it. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, path, len);
        d[len] = 0;
    }
    return d;
}

/* A name the file may hold: checked on save so that no save writes a file
 * that restore would refuse. */
static int save_name_ok(const char *path, const char *what, const char *name)
{
    if (strlen(name) <= CKPT_NAME_MAX)
        return 1;
    host_fail("%s: cannot save: the %s '%.64s...' is longer than %u bytes", path, what, name,
              CKPT_NAME_MAX);
    return 0;
}

int drive_save(const drive_pop *p, const char *path)
{
    if (!p || !path)
        return host_fail("drive_save: %s is NULL", p ? "the path" : "the population");
    if (!host_is_little_endian())
        return host_fail("%s: cannot save: checkpoints need a little-endian host", path);
    const drive_abi_circuit *a = p->c->abi;
    const char *module = or_empty(a->module), *name = or_empty(a->name),
               *hash = or_empty(a->source_hash);

    /* The size first: it goes into the header, so a reader can tell a
     * truncated file from a corrupted one before anything else. */
    if (!save_name_ok(path, "module name", module) || !save_name_ok(path, "circuit name", name) ||
        !save_name_ok(path, "source hash", hash))
        return -1;
    uint64_t size = CKPT_HEADER + 12 + strlen(module) + strlen(name) + strlen(hash);
    uint32_t n_fields = 0;
    for (uint32_t i = 0; i < a->n_fields; i++) {
        const drive_field *f = &a->fields[i];
        if (!is_stored(f))
            continue;
        if (!save_name_ok(path, "field name", or_empty(f->name)))
            return -1;
        size += CKPT_FIELD_HEAD + strlen(or_empty(f->name));
        n_fields++;
    }
    uint64_t data = (uint64_t)p->n * a->state_size;
    if (a->state_size && data / a->state_size != p->n)
        return host_fail("%s: cannot save: %zu instances of %" PRIu32 " bytes overflow", path,
                         p->n, a->state_size);
    size += data + CKPT_CHECKSUM;

    /* Each instance is gathered out of the columns into one block and
     * written, so no second copy of the whole population is held. Made
     * before the temporary file, so that running out of memory leaves
     * nothing behind. */
    host_layout lay = { 0 };
    unsigned char *blk = NULL;
    if (p->n > 1) {
        if (host_layout_make(a, DRIVE_ABI_STATE, &lay) != 0 ||
            !(blk = malloc(a->state_size ? a->state_size : 1))) {
            host_layout_free(&lay);
            return host_fail("%s: cannot save: out of memory for one state block of %s.%s", path,
                             module, name);
        }
    }

    /* The temporary file: beside the target (a rename only replaces files
     * atomically within one file system), named after the process so that
     * concurrent saves do not collide, and created exclusively so that a
     * leftover of a crashed save is never written into. */
    size_t tmp_len = strlen(path) + 48;
    char *tmp = malloc(tmp_len);
    if (!tmp) {
        host_layout_free(&lay);
        free(blk);
        return host_fail("%s: cannot save: out of memory", path);
    }
    int fd = -1;
    for (unsigned attempt = 0; attempt < 1000 && fd < 0; attempt++) {
        snprintf(tmp, tmp_len, "%s.tmp.%ld.%u", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        host_fail("%s: cannot save: cannot create '%s': %s", path, tmp, strerror(e));
        free(tmp);
        host_layout_free(&lay);
        free(blk);
        return -1;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        host_fail("%s: cannot save: %s", path, strerror(e));
        free(tmp);
        host_layout_free(&lay);
        free(blk);
        return -1;
    }

    errno = 0; /* so that a failed fwrite's errno is not confused with an older one */
    writer w = { f, HOST_HASH_INIT, 0 };
    put(&w, CKPT_MAGIC, CKPT_MAGIC_LEN);
    put_u32(&w, CKPT_VERSION);
    put_u32(&w, a->abi_version);
    put_u64(&w, size);
    put_u64(&w, (uint64_t)p->n);
    put_u32(&w, a->state_size);
    put_u32(&w, n_fields);
    put_str(&w, module);
    put_str(&w, name);
    put_str(&w, hash);
    for (uint32_t i = 0; i < a->n_fields; i++) {
        const drive_field *fl = &a->fields[i];
        if (!is_stored(fl))
            continue;
        put_u32(&w, fl->offset);
        put_u8(&w, fl->kind);
        put_u8(&w, fl->type);
        put_u8(&w, fl->role);
        put_u8(&w, 0);
        put_str(&w, or_empty(fl->name));
    }
    if (p->n == 1) {
        put(&w, p->state, (size_t)data); /* one instance: the columns are its block */
    } else {
        for (size_t j = 0; j < p->n; j++) {
            host_gather(p->state, p->cols, &lay, j, blk);
            put(&w, blk, a->state_size);
        }
    }
    host_layout_free(&lay);
    free(blk);
    uint64_t sum = w.hash;
    put_u64(&w, sum);

    /* Data on disk before the rename makes it visible: otherwise a crash
     * could leave the new name on a file whose blocks never arrived. */
    int e = 0;
    if (w.failed || fflush(f) != 0)
        e = errno ? errno : EIO;
    if (!e && fsync(fileno(f)) != 0)
        e = errno;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e) {
        unlink(tmp);
        host_fail("%s: cannot save: writing '%s' failed: %s", path, tmp, strerror(e));
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        host_fail("%s: cannot save: cannot rename '%s' over it: %s", path, tmp, strerror(e));
        free(tmp);
        return -1;
    }
    free(tmp);

    /* The rename itself is durable only once the directory is synced. Some
     * file systems cannot sync a directory (EINVAL): nothing more to do. */
    char *dir = dir_of(path);
    if (!dir)
        return host_fail("%s: saved, but the directory could not be synced: out of memory", path);
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
        e = errno;
        if (dfd >= 0)
            close(dfd);
        host_fail("%s: saved, but its directory '%s' could not be synced: %s", path, dir,
                  strerror(e));
        free(dir);
        return -1;
    }
    close(dfd);
    free(dir);
    return 0;
}

/* ---- reading a checkpoint ------------------------------------------------- */

typedef struct {
    const unsigned char *p; /* into the file's bytes, not terminated */
    uint32_t len;
} str;

typedef struct {
    str name;
    uint32_t offset;
    uint8_t kind, type, role;
    uint32_t pos; /* place in the file's table (sorting loses it) */
} ckpt_field;

typedef struct {
    unsigned char *buf; /* the whole file */
    size_t size;
    uint32_t abi_version, state_size, n_fields;
    uint64_t n;
    str module, circuit, hash;
    ckpt_field *fields;
    const unsigned char *state; /* n blocks of state_size bytes */
} ckpt;

static void ckpt_free(ckpt *k)
{
    free(k->buf);
    free(k->fields);
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t le64(const unsigned char *b) { return le32(b) | (uint64_t)le32(b + 4) << 32; }

/* Reads up to len bytes (fewer only at end of file); -1 on an error. */
static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The file into memory, with the checks that need only its first bytes and
 * its size: magic, version, declared size, then the checksum. */
static int load_file(const char *path, ckpt *k)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return host_fail("%s: cannot read the checkpoint: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return host_fail("%s: cannot read the checkpoint: %s", path, strerror(e));
    }
    /* A device or pipe could be endless: only a regular file has a size to
     * bound the reading by. */
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return host_fail("%s: not a checkpoint: not a regular file", path);
    }
    unsigned char head[CKPT_HEADER];
    ssize_t got = read_full(fd, head, sizeof head);
    if (got < 0) {
        int e = errno;
        close(fd);
        return host_fail("%s: cannot read the checkpoint: %s", path, strerror(e));
    }
    size_t have = (size_t)got;
    size_t magic_seen = have < CKPT_MAGIC_LEN ? have : CKPT_MAGIC_LEN;
    if (memcmp(head, CKPT_MAGIC, magic_seen) != 0) {
        close(fd);
        return host_fail("%s: not a drive checkpoint (it does not start with \"" CKPT_MAGIC "\")",
                         path);
    }
    if (have < CKPT_HEADER) {
        close(fd);
        return host_fail("%s: truncated checkpoint (%zu bytes, fewer than its %d-byte header)",
                         path, have, CKPT_HEADER);
    }
    uint32_t version = le32(head + 8);
    if (version != CKPT_VERSION) {
        close(fd);
        if (version > CKPT_VERSION)
            return host_fail("%s: checkpoint format version %" PRIu32 " is newer than this "
                             "library reads (version %u)",
                             path, version, CKPT_VERSION);
        return host_fail("%s: unknown checkpoint format version %" PRIu32 " (this library reads "
                         "version %u)",
                         path, version, CKPT_VERSION);
    }
    uint64_t declared = le64(head + 16);
    uint64_t actual = (uint64_t)st.st_size;
    if (actual < declared) {
        close(fd);
        return host_fail("%s: truncated checkpoint (%" PRIu64 " bytes of the %" PRIu64
                         " its header declares)",
                         path, actual, declared);
    }
    if (actual > declared) {
        close(fd);
        return host_fail("%s: corrupted checkpoint (%" PRIu64 " bytes, its header declares %" PRIu64
                         ")",
                         path, actual, declared);
    }
    if (declared < CKPT_HEADER + CKPT_CHECKSUM || declared > SIZE_MAX) {
        close(fd);
        return host_fail("%s: corrupted checkpoint (its header declares %" PRIu64 " bytes)", path,
                         declared);
    }
    /* The allocation is bounded by the file's real size, never by a length
     * read from it. */
    size_t size = (size_t)declared;
    unsigned char *buf = malloc(size);
    if (!buf) {
        close(fd);
        return host_fail("%s: cannot read the checkpoint: out of memory for %zu bytes", path, size);
    }
    memcpy(buf, head, CKPT_HEADER);
    got = read_full(fd, buf + CKPT_HEADER, size - CKPT_HEADER);
    int e = errno;
    close(fd);
    if (got < 0) {
        free(buf);
        return host_fail("%s: cannot read the checkpoint: %s", path, strerror(e));
    }
    if ((size_t)got != size - CKPT_HEADER) {
        free(buf);
        return host_fail("%s: truncated checkpoint (it shrank to %zu bytes while being read)", path,
                         CKPT_HEADER + (size_t)got);
    }
    uint64_t stored = le64(buf + size - CKPT_CHECKSUM);
    uint64_t computed = host_hash(HOST_HASH_INIT, buf, size - CKPT_CHECKSUM);
    if (stored != computed) {
        free(buf);
        return host_fail("%s: corrupted checkpoint (checksum %016" PRIx64 ", computed %016" PRIx64
                         ")",
                         path, stored, computed);
    }
    k->buf = buf;
    k->size = size;
    return 0;
}

typedef struct {
    const unsigned char *p;
    size_t left;
} cursor;

static int take(cursor *c, size_t len, const unsigned char **out)
{
    if (len > c->left)
        return 0;
    *out = c->p;
    c->p += len;
    c->left -= len;
    return 1;
}

/* A name: its length bounded by CKPT_NAME_MAX and by the bytes left, and no
 * NUL inside (names are C strings on the circuit's side). */
static int take_str(const char *path, cursor *c, const char *what, uint32_t index, str *s)
{
    const unsigned char *b;
    char label[64];
    if (index == UINT32_MAX)
        snprintf(label, sizeof label, "the %s", what);
    else
        snprintf(label, sizeof label, "the name of field %" PRIu32, index);
    if (!take(c, 4, &b)) {
        host_fail("%s: malformed checkpoint: %s runs past the end", path, label);
        return 0;
    }
    uint32_t len = le32(b);
    if (len > CKPT_NAME_MAX) {
        host_fail("%s: malformed checkpoint: %s is %" PRIu32 " bytes long (at most %u)", path,
                  label, len, CKPT_NAME_MAX);
        return 0;
    }
    if (!take(c, len, &b)) {
        host_fail("%s: malformed checkpoint: %s (%" PRIu32 " bytes) runs past the end", path, label,
                  len);
        return 0;
    }
    if (memchr(b, 0, len)) {
        host_fail("%s: malformed checkpoint: %s holds a NUL byte", path, label);
        return 0;
    }
    s->p = b;
    s->len = len;
    return 1;
}

/* Everything after the checksum: the header's counts and every entry of the
 * field table against the bytes there are. */
static int parse(const char *path, ckpt *k)
{
    const unsigned char *b = k->buf;
    k->abi_version = le32(b + 12);
    k->n = le64(b + 24);
    k->state_size = le32(b + 32);
    k->n_fields = le32(b + 36);
    cursor c = { b + CKPT_HEADER, k->size - CKPT_HEADER - CKPT_CHECKSUM };
    if (!take_str(path, &c, "module name", UINT32_MAX, &k->module) ||
        !take_str(path, &c, "circuit name", UINT32_MAX, &k->circuit) ||
        !take_str(path, &c, "source hash", UINT32_MAX, &k->hash))
        return -1;
    /* Each entry takes at least its fixed head: a count the file cannot hold
     * is refused before the table is allocated. */
    if (k->n_fields > c.left / CKPT_FIELD_HEAD)
        return host_fail("%s: malformed checkpoint: %" PRIu32 " fields declared, more than its "
                         "%zu bytes can hold",
                         path, k->n_fields, k->size);
    k->fields = calloc(k->n_fields ? k->n_fields : 1, sizeof *k->fields);
    if (!k->fields)
        return host_fail("%s: cannot read the checkpoint: out of memory", path);
    for (uint32_t i = 0; i < k->n_fields; i++) {
        ckpt_field *f = &k->fields[i];
        const unsigned char *e;
        if (!take(&c, CKPT_FIELD_HEAD - 4, &e))
            return host_fail("%s: malformed checkpoint: field %" PRIu32 " runs past the end", path,
                             i);
        f->offset = le32(e);
        f->kind = e[4];
        f->type = e[5];
        f->role = e[6];
        f->pos = i;
        if (!take_str(path, &c, "field", i, &f->name))
            return -1;
        /* Named by place and name: a crafted name may well be empty. */
        int nl = (int)f->name.len;
        const char *nm = (const char *)f->name.p;
        if (f->kind != DRIVE_ABI_PARAM && f->kind != DRIVE_ABI_STATE)
            return host_fail("%s: malformed checkpoint: field %" PRIu32 " (%.*s) has kind %u (a "
                             "param is %d, a state slot %d)",
                             path, i, nl, nm, f->kind, DRIVE_ABI_PARAM, DRIVE_ABI_STATE);
        if (f->type != DRIVE_ABI_REAL && f->type != DRIVE_ABI_BOOL)
            return host_fail("%s: malformed checkpoint: field %" PRIu32 " (%.*s) has type %u (real "
                             "is %d, bool %d)",
                             path, i, nl, nm, f->type, DRIVE_ABI_REAL, DRIVE_ABI_BOOL);
        if (e[7] != 0)
            return host_fail("%s: malformed checkpoint: field %" PRIu32 " (%.*s) has a reserved "
                             "byte of %u",
                             path, i, nl, nm, e[7]);
        if ((uint64_t)f->offset + type_width(f->type) > k->state_size)
            return host_fail("%s: malformed checkpoint: field %" PRIu32 " (%.*s) at offset %" PRIu32
                             " lies outside the %" PRIu32 "-byte state block",
                             path, i, nl, nm, f->offset, k->state_size);
    }
    /* What is left is exactly the state blocks (n may be anything a crafted
     * header says, so the product is never formed before the division). */
    int fits = k->state_size ? k->n <= c.left / k->state_size && k->n * k->state_size == c.left
                             : c.left == 0;
    if (!fits)
        return host_fail("%s: malformed checkpoint: %" PRIu64 " instances of %" PRIu32
                         " bytes do not fill the %zu bytes of state data",
                         path, k->n, k->state_size, c.left);
    k->state = c.p;
    return 0;
}

/* ---- matching ------------------------------------------------------------- */

static int str_is(const str *s, const char *c)
{
    size_t len = strlen(c);
    return s->len == len && memcmp(s->p, c, len) == 0;
}

/* The ABI version as far as a checkpoint's data is concerned: version 2 laid
 * populations out in columns in memory, but one instance's state block, the
 * only thing a file holds, is the same bytes in 1 and 2. */
static uint32_t data_version(uint32_t abi_version) { return abi_version == 1 ? 2 : abi_version; }

/* The first difference between the checkpoint's layout and the circuit's,
 * written into why; 0 when the layouts are the same. */
static int layout_differs(const ckpt *k, const drive_abi_circuit *a, char *why, size_t why_len)
{
    if (data_version(k->abi_version) != data_version(a->abi_version)) {
        snprintf(why, why_len, "saved with ABI version %" PRIu32 ", the circuit has %" PRIu32,
                 k->abi_version, a->abi_version);
        return 1;
    }
    if (k->state_size != a->state_size) {
        snprintf(why, why_len, "a state block of %" PRIu32 " bytes, the circuit's has %" PRIu32,
                 k->state_size, a->state_size);
        return 1;
    }
    uint32_t j = 0;
    for (uint32_t i = 0; i < a->n_fields; i++) {
        const drive_field *f = &a->fields[i];
        if (!is_stored(f))
            continue;
        if (j == k->n_fields) {
            snprintf(why, why_len, "%" PRIu32 " fields, the circuit has more", k->n_fields);
            return 1;
        }
        const ckpt_field *g = &k->fields[j++];
        if (!str_is(&g->name, or_empty(f->name)) || g->kind != f->kind || g->type != f->type ||
            g->offset != f->offset) {
            snprintf(why, why_len, "field %" PRIu32 " is %.*s at offset %" PRIu32
                     ", the circuit's is %s at offset %" PRIu32,
                     j - 1, (int)g->name.len, (const char *)g->name.p, g->offset,
                     or_empty(f->name), f->offset);
            return 1;
        }
    }
    if (j != k->n_fields) {
        snprintf(why, why_len, "%" PRIu32 " fields, the circuit has %" PRIu32, k->n_fields, j);
        return 1;
    }
    return 0;
}

static int name_cmp(const str *a, const str *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int field_cmp(const void *x, const void *y)
{
    return name_cmp(&((const ckpt_field *)x)->name, &((const ckpt_field *)y)->name);
}

/* Why a field of the circuit keeps its value in a by-name restore. The order
 * is the order of the groups in the report. */
enum keep {
    RESTORED = 0,
    KEEP_ABSENT,     /* no field of that name in the checkpoint */
    KEEP_WAS_PARAM,  /* a param there, a state slot here */
    KEEP_WAS_STATE,  /* a state slot there, a param here */
    KEEP_WAS_REAL,   /* a real there, a bool here */
    KEEP_WAS_BOOL,   /* a bool there, a real here */
    KEEP_RANGE,      /* a param whose saved value is outside the range declared here */
    KEEP_BAD_BOOL,   /* a bool whose saved byte is neither 0 nor 1 */
    KEEP_N
};

static const char *const keep_why[KEEP_N] = {
    "",
    "not in the checkpoint",
    "a param in the checkpoint",
    "a state slot in the checkpoint",
    "a real in the checkpoint",
    "a bool in the checkpoint",
    "saved outside the range declared here",
    "saved as neither 0 nor 1",
};

/* The restore report, bounded: a long list ends with "and N more" and the
 * whole text is cut to the buffer. */
typedef struct {
    char *buf;
    size_t cap, len;
} report;

static void rep_add(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rep_add(report *r, const char *fmt, ...)
{
    if (r->len + 1 >= r->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    r->len += (size_t)n;
    if (r->len >= r->cap) {
        r->len = r->cap - 1;
        memcpy(r->buf + r->cap - 4, "...", 4); /* said so, rather than cut silently */
    }
}

/* A by-name restore, decided before anything is written: for each field of
 * the circuit (by its index in the description) why it keeps its value, or
 * the checkpoint field it takes its value from. */
typedef struct {
    ckpt_field *sorted;   /* the checkpoint's table by name */
    unsigned char *named; /* by table position: some circuit field has its name */
    unsigned char *why;   /* enum keep, per circuit field */
    uint32_t *from;       /* table position, per restored circuit field */
    uint32_t restored;
} plan;

static void plan_free(plan *m)
{
    free(m->sorted);
    free(m->named);
    free(m->why);
    free(m->from);
}

static int plan_match(const char *path, const ckpt *k, const drive_abi_circuit *a, plan *m)
{
    uint32_t nk = k->n_fields ? k->n_fields : 1, na = a->n_fields ? a->n_fields : 1;
    m->sorted = malloc(nk * sizeof *m->sorted);
    m->named = calloc(nk, 1);
    m->why = calloc(na, 1);
    m->from = calloc(na, sizeof *m->from);
    if (!m->sorted || !m->named || !m->why || !m->from)
        return host_fail("%s: cannot restore: out of memory", path);
    /* Sorted once, searched per field: tables of a million history slots
     * stay fast. */
    if (k->n_fields)
        memcpy(m->sorted, k->fields, k->n_fields * sizeof *m->sorted);
    qsort(m->sorted, k->n_fields, sizeof *m->sorted, field_cmp);
    for (uint32_t i = 1; i < k->n_fields; i++)
        if (name_cmp(&m->sorted[i - 1].name, &m->sorted[i].name) == 0)
            return host_fail("%s: malformed checkpoint: field %.*s is listed twice", path,
                             (int)m->sorted[i].name.len, (const char *)m->sorted[i].name.p);

    for (uint32_t i = 0; i < a->n_fields; i++) {
        const drive_field *f = &a->fields[i];
        if (!is_stored(f))
            continue;
        if ((uint64_t)f->offset + type_width(f->type) > a->state_size)
            return host_fail("%s: cannot restore: field %s of circuit %s.%s lies outside its "
                             "state block",
                             path, or_empty(f->name), or_empty(a->module), or_empty(a->name));
        const char *name = or_empty(f->name);
        size_t len = strlen(name);
        if (len > CKPT_NAME_MAX) {
            m->why[i] = KEEP_ABSENT; /* no file can hold such a name */
            continue;
        }
        ckpt_field probe = { .name = { (const unsigned char *)name, (uint32_t)len } };
        const ckpt_field *g =
            k->n_fields ? bsearch(&probe, m->sorted, k->n_fields, sizeof *m->sorted, field_cmp)
                        : NULL;
        if (!g) {
            m->why[i] = KEEP_ABSENT;
            continue;
        }
        m->named[g->pos] = 1;
        m->from[i] = g->pos;
        if (g->kind != f->kind) {
            m->why[i] = g->kind == DRIVE_ABI_PARAM ? KEEP_WAS_PARAM : KEEP_WAS_STATE;
            continue;
        }
        if (g->type != f->type) {
            m->why[i] = g->type == DRIVE_ABI_REAL ? KEEP_WAS_REAL : KEEP_WAS_BOOL;
            continue;
        }
        /* The same guarantees as drive_set: a param in its declared range, a
         * bool 0 or 1. A value that breaks them keeps the field whole, in
         * every instance, rather than restoring it in some. */
        for (uint64_t j = 0; j < k->n && !m->why[i]; j++) {
            const unsigned char *v = k->state + j * k->state_size + g->offset;
            if (f->type == DRIVE_ABI_BOOL) {
                if (*v > 1)
                    m->why[i] = KEEP_BAD_BOOL;
            } else if (f->kind == DRIVE_ABI_PARAM && f->has_range) {
                double d;
                memcpy(&d, v, sizeof d);
                if (!(d >= f->lo && d <= f->hi))
                    m->why[i] = KEEP_RANGE;
            }
        }
        if (!m->why[i])
            m->restored++;
    }
    return 0;
}

static void plan_apply(drive_pop *p, const ckpt *k, const plan *m)
{
    const drive_abi_circuit *a = p->c->abi;
    for (size_t j = 0; j < p->n; j++) {
        const unsigned char *src = k->state + j * k->state_size;
        for (uint32_t i = 0; i < a->n_fields; i++) {
            const drive_field *f = &a->fields[i];
            if (is_stored(f) && !m->why[i])
                memcpy(host_field(p, j, f), src + k->fields[m->from[i]].offset,
                       type_width(f->type));
        }
    }
}

static void plan_report(const ckpt *k, const drive_abi_circuit *a, const plan *m)
{
    report r = { restore_report, sizeof restore_report, 0 };
    rep_add(&r, "restored %" PRIu32 " of %" PRIu32 " fields by name", m->restored,
            count_stored(a));
    int kept_any = 0;
    for (int reason = KEEP_ABSENT; reason < KEEP_N; reason++) {
        uint32_t listed = 0, count = 0;
        for (uint32_t i = 0; i < a->n_fields; i++) {
            if (!is_stored(&a->fields[i]) || m->why[i] != reason)
                continue;
            count++;
            if (listed == REPORT_NAMES)
                continue;
            rep_add(&r, "%s%s", listed ? ", " : kept_any ? "; " : "; kept as they were: ",
                    or_empty(a->fields[i].name));
            listed++;
            kept_any = 1;
        }
        if (count > listed)
            rep_add(&r, " and %" PRIu32 " more", count - listed);
        if (count)
            rep_add(&r, " (%s)", keep_why[reason]);
    }
    uint32_t listed = 0, count = 0;
    for (uint32_t i = 0; i < k->n_fields; i++) {
        if (m->named[i])
            continue;
        count++;
        if (listed == REPORT_NAMES)
            continue;
        rep_add(&r, "%s%.*s", listed ? ", " : "; ignored from the checkpoint: ",
                (int)k->fields[i].name.len, (const char *)k->fields[i].name.p);
        listed++;
    }
    if (count > listed)
        rep_add(&r, " and %" PRIu32 " more", count - listed);
}

/* Restore by name: every field matched and every value checked first; then,
 * with nothing left to fail, the copy and the report. */
static int restore_by_name(drive_pop *p, const char *path, const ckpt *k)
{
    plan m = { 0 };
    int rc = plan_match(path, k, p->c->abi, &m);
    if (rc == 0) {
        plan_apply(p, k, &m);
        plan_report(k, p->c->abi, &m);
    }
    plan_free(&m);
    return rc;
}

/* ---- restore -------------------------------------------------------------- */

int drive_restore(drive_pop *p, const char *path, unsigned flags)
{
    restore_report[0] = 0; /* a failed restore restored nothing */
    if (!p || !path)
        return host_fail("drive_restore: %s is NULL", p ? "the path" : "the population");
    if (flags & ~(unsigned)DRIVE_RESTORE_BY_NAME)
        return host_fail("%s: cannot restore: unknown flags 0x%x", path,
                         flags & ~(unsigned)DRIVE_RESTORE_BY_NAME);
    if (!host_is_little_endian())
        return host_fail("%s: cannot restore: checkpoints need a little-endian host", path);
    const drive_abi_circuit *a = p->c->abi;
    const char *module = or_empty(a->module), *name = or_empty(a->name),
               *hash = or_empty(a->source_hash);

    ckpt k = { 0 };
    if (load_file(path, &k) != 0 || parse(path, &k) != 0) {
        ckpt_free(&k);
        return -1;
    }

    int same_circuit = str_is(&k.module, module) && str_is(&k.circuit, name);
    int same_hash = same_circuit && str_is(&k.hash, hash);
    char why[512];
    int same_layout = same_hash && !layout_differs(&k, a, why, sizeof why);
    if (!same_layout && !(flags & DRIVE_RESTORE_BY_NAME)) {
        if (!same_circuit)
            host_fail("%s: the checkpoint is of circuit %.*s.%.*s (source hash %.*s), not of "
                      "%s.%s (source hash %s); DRIVE_RESTORE_BY_NAME restores the fields whose "
                      "names match",
                      path, (int)k.module.len, (const char *)k.module.p, (int)k.circuit.len,
                      (const char *)k.circuit.p, (int)k.hash.len, (const char *)k.hash.p, module,
                      name, hash);
        else if (!same_hash)
            host_fail("%s: the checkpoint of circuit %s.%s has source hash %.*s, this circuit has "
                      "source hash %s (its source, imports or build options changed); "
                      "DRIVE_RESTORE_BY_NAME restores the fields whose names match",
                      path, module, name, (int)k.hash.len, (const char *)k.hash.p, hash);
        else
            host_fail("%s: the checkpoint of circuit %s.%s (source hash %s) lays out its state "
                      "differently: %s; DRIVE_RESTORE_BY_NAME restores the fields whose names "
                      "match",
                      path, module, name, hash, why);
        ckpt_free(&k);
        return -1;
    }
    if (k.n != (uint64_t)p->n) {
        host_fail("%s: the checkpoint holds %" PRIu64 " instance%s of %.*s.%.*s, the population "
                  "has %zu",
                  path, k.n, k.n == 1 ? "" : "s", (int)k.module.len, (const char *)k.module.p,
                  (int)k.circuit.len, (const char *)k.circuit.p, p->n);
        ckpt_free(&k);
        return -1;
    }

    int rc = 0;
    if (same_layout) {
        /* The same circuit: the blocks bit for bit, padding included,
         * scattered into the columns. */
        host_layout lay;
        if (host_layout_make(a, DRIVE_ABI_STATE, &lay) != 0) {
            host_fail("%s: cannot restore: out of memory for the layout of %s.%s", path, module,
                      name);
            ckpt_free(&k);
            return -1;
        }
        for (size_t j = 0; j < p->n; j++)
            host_scatter(p->state, p->cols, &lay, j, k.state + j * k.state_size);
        host_layout_free(&lay);
        uint32_t n_stored = count_stored(a);
        snprintf(restore_report, sizeof restore_report, "restored %" PRIu32 " field%s", n_stored,
                 n_stored == 1 ? "" : "s");
    } else {
        rc = restore_by_name(p, path, &k);
    }
    ckpt_free(&k);
    return rc;
}

const char *drive_restore_report(void) { return restore_report; }
