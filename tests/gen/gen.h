/* gen.h — a seeded generator of random, valid drive programs for the
 * differential campaign (tests/gen/gen_run.c) and for drive_gen.
 *
 * One seed gives one program, always the same text: a module with constants,
 * a few sub-circuits and a main circuit that together use every construct of
 * lang/SPEC.md (vectors and their operations, math built-ins, pre/state/next,
 * params with ranges, duration params, learned inputs, instances, heuristics,
 * reflexes, predictors with delay and defer, gates, attention, rewards,
 * imports of std.core). The generator keeps the rules of the checker so that
 * `drivec check` accepts what it writes: signals only read signals made
 * before them (or through pre), heuristics never read anything learned, and
 * constants bound to ranged params lie in their ranges.
 *
 * Ownership: gen_program returns a malloc'd string the caller frees.
 */
#ifndef DRIVE_GEN_H
#define DRIVE_GEN_H

#include <stdint.h>

/* Which constructs a program used, for the coverage summary. */
enum {
    GEN_C_VEC_OP, GEN_C_DOT_SUM_NORM, GEN_C_INDEX, GEN_C_MATH, GEN_C_PRE, GEN_C_PRE_INIT,
    GEN_C_STATE, GEN_C_PARAM_RANGE, GEN_C_DUR_PARAM, GEN_C_LEARNED, GEN_C_INSTANCE,
    GEN_C_INLINE_CALL, GEN_C_HEURISTIC, GEN_C_REFLEX, GEN_C_REFRACTORY, GEN_C_PREDICTOR,
    GEN_C_DELAY, GEN_C_DEFER, GEN_C_NLMS, GEN_C_SQUASH, GEN_C_GATE, GEN_C_ATTENTION,
    GEN_C_REWARD, GEN_C_IMPORT, GEN_C_CONST, GEN_C_ALPHA_DECAY, GEN_C_IF, GEN_C_VEC_LIT,
    GEN_C_MINMAX, GEN_C_SELF_PRE, GEN_C_COUNT
};
extern const char *const gen_construct_names[GEN_C_COUNT];

typedef struct gen_info {
    int used[GEN_C_COUNT]; /* nonzero when the program used the construct */
    int n_circuits;
} gen_info;

/* The program of this seed (NUL-terminated, malloc'd); info may be NULL. */
char *gen_program(uint64_t seed, gen_info *info);

#endif
