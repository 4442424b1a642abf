/* csv.h — numeric CSV tables: the input traces of `drivec run`.
 *
 * Format: a header row of column names, then one row per tick. Fields are
 * numbers (as strtod reads them, finite only) or true/false; spaces around
 * fields are ignored, as are blank lines and lines starting with '#'.
 *
 * Ownership: rt_csv_read fills a table the caller releases with
 * rt_csv_free; on failure the table is empty and err says what and where.
 */
#ifndef DRIVE_CSV_H
#define DRIVE_CSV_H

#include <stdio.h>

#include "rt.h"

typedef struct rt_table {
    char **names;     /* ncols column names */
    int ncols;
    double *data;     /* nrows * ncols values, row-major */
    long nrows;
    long *lines;      /* the file line of each row, for messages */
    long header_line;
} rt_table;

int rt_csv_read(const char *path, rt_table *t, rt_error *err);
/* The same from memory (for tests and fuzzing); name is used in errors. */
int rt_csv_parse(const char *name, const char *text, size_t len, rt_table *t, rt_error *err);
void rt_csv_free(rt_table *t);
int rt_csv_column(const rt_table *t, const char *name); /* -1 if absent */

#endif
