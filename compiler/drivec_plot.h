/* drivec_plot.h — `drivec plot TRACE.csv -o OUT.svg`: a trace (as written by
 * `drivec run --out`) drawn with gnuplot.
 *
 * The x axis is the `time` column (else `tick`, else the row number). The
 * chosen signals (default: every column but tick and time) share one panel;
 * reward streams, when named (--rewards, or --circuit FILE: the reward
 * streams of the circuits in FILE), go to a second panel, stacked: stream i
 * fills the band between the sum of streams 0..i-1 and 0..i, in the order
 * given, with the total `reward` (when chosen) drawn over them as a line.
 * Long traces are drawn from buckets of rows: lines as each bucket's
 * minimum and maximum, stacks as each bucket's mean. The SVG depends only on
 * the inputs. It is written beside OUT.svg and renamed when complete.
 */
#ifndef DRIVE_DRIVEC_PLOT_H
#define DRIVE_DRIVEC_PLOT_H

/* Returns the exit status: 0 drawn, 1 bad data or gnuplot failed, 2 bad
 * usage. Messages go to stderr. */
int drivec_plot(const char *const *files, int n_files, const char *out_svg, const char *signals,
                const char *rewards, const char *title, const char *circuit_file,
                const char *const *include, int n_include);

#endif
