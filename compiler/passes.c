/* passes.c — constant folding, common subexpressions, dead code and dead
 * state, and the recipe that runs them. */
#include "passes.h"

#include "rt_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- shared helpers ----------------------------------------------------- */

/* Rewrite operands through a replacement map (value -> value). */
static void remap_operands(ir_inst *in, const uint32_t *map)
{
    int n = ir_n_operands(in->op);
    if (n > 0)
        in->a = map[in->a];
    if (n > 1)
        in->b = map[in->b];
    if (n > 2)
        in->c = map[in->c];
}

static uint32_t *identity_map(arena *mem, uint32_t n)
{
    uint32_t *map = arena_calloc(mem, (size_t)n + 1, sizeof *map);
    for (uint32_t i = 0; i < n; i++)
        map[i] = i;
    return map;
}

/* Drop NOPs and renumber values densely. */
static void compact(arena *mem, ir_circuit *c)
{
    uint32_t *map = identity_map(mem, c->n_code);
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->n_code; i++) {
        if (c->code[i].op == IR_NOP)
            continue;
        ir_inst in = c->code[i];
        remap_operands(&in, map);
        map[i] = n;
        c->code[n++] = in;
    }
    c->n_code = n;
}

static int is_const(const ir_circuit *c, uint32_t v, double want)
{
    const ir_inst *in = &c->code[v];
    return in->op == IR_CONST && memcmp(&in->imm, &want, sizeof want) == 0;
}

/* ---- fold: constants and exact identities ------------------------------- */

/* A bool constant is true whenever imm != 0 (ir.h): compare truth, not bits. */
static double const_value(const ir_inst *k)
{
    return k->type == IR_BOOL ? (double)(k->imm != 0) : k->imm;
}

static double eval_op(ir_op op, double a, double b, double s)
{
    switch (op) {
    case IR_NEG: return -a;
    case IR_ADD: return a + b;
    case IR_SUB: return a - b;
    case IR_MUL: return a * b;
    case IR_DIV: return a / b;
    /* the same calls the interpreter makes: the same bits */
    case IR_EXP: return rt_exp(a);
    case IR_LOG: return log(a);
    case IR_TANH: return rt_tanh(a);
    case IR_SIN: return sin(a);
    case IR_COS: return cos(a);
    case IR_SQRT: return sqrt(a);
    case IR_ABS: return fabs(a);
    case IR_FLOOR: return floor(a);
    case IR_EXPM1: return rt_expm1(a);
    case IR_LT: return a < b;
    case IR_LE: return a <= b;
    case IR_GT: return a > b;
    case IR_GE: return a >= b;
    case IR_EQ: return a == b;
    case IR_NE: return a != b;
    case IR_NOT: return a == 0;
    case IR_AND: return (a != 0) && (b != 0);
    case IR_OR: return (a != 0) || (b != 0);
    case IR_SELECT: return a != 0 ? b : s;
    default: return 0;
    }
}

void pass_fold(arena *mem, ir_circuit *c)
{
    uint32_t *map = identity_map(mem, c->n_code);
    for (uint32_t i = 0; i < c->n_code; i++) {
        ir_inst *in = &c->code[i];
        remap_operands(in, map);
        int n = ir_n_operands(in->op);
        if (in->op == IR_STORE_IF && c->code[in->b].op == IR_CONST) {
            /* a guard known at compile time: store always, or never */
            in->op = c->code[in->b].imm != 0 ? IR_STORE : IR_NOP;
            continue;
        }
        if (in->op == IR_STOREX_IF && c->code[in->c].op == IR_CONST) {
            in->op = c->code[in->c].imm != 0 ? IR_STOREX : IR_NOP;
            continue;
        }
        if (!ir_has_result(in->op) || n == 0)
            continue;
        const ir_inst *A = &c->code[in->a];
        const ir_inst *B = n > 1 ? &c->code[in->b] : NULL;
        const ir_inst *C = n > 2 ? &c->code[in->c] : NULL;
        int all_const = A->op == IR_CONST && (!B || B->op == IR_CONST) && (!C || C->op == IR_CONST);
        if (all_const) {
            double v = eval_op(in->op, const_value(A), B ? const_value(B) : 0,
                               C ? const_value(C) : 0);
            *in = (ir_inst){ .op = IR_CONST, .type = in->type, .name = in->name,
                             .imm = in->type == IR_BOOL ? (v != 0) : v };
            continue;
        }
        uint32_t same = UINT32_MAX;
        switch (in->op) {
        case IR_MUL:
            if (is_const(c, in->b, 1.0)) same = in->a;
            else if (is_const(c, in->a, 1.0)) same = in->b;
            break;
        case IR_DIV:
            if (is_const(c, in->b, 1.0)) same = in->a;
            break;
        case IR_SUB:
            if (is_const(c, in->b, 0.0)) same = in->a;
            break;
        case IR_ADD:
            if (is_const(c, in->b, -0.0)) same = in->a;
            else if (is_const(c, in->a, -0.0)) same = in->b;
            break;
        case IR_NOT:
            if (A->op == IR_NOT) same = A->a;
            break;
        case IR_AND:
            if (A->op == IR_CONST) { if (A->imm != 0) same = in->b; else same = in->a; }
            else if (B->op == IR_CONST) { if (B->imm != 0) same = in->a; else same = in->b; }
            break;
        case IR_OR:
            if (A->op == IR_CONST) { if (A->imm != 0) same = in->a; else same = in->b; }
            else if (B->op == IR_CONST) { if (B->imm != 0) same = in->b; else same = in->a; }
            break;
        case IR_SELECT:
            if (A->op == IR_CONST) same = A->imm != 0 ? in->b : in->c;
            else if (in->b == in->c) same = in->b;
            break;
        default:
            break;
        }
        if (same != UINT32_MAX) {
            map[i] = same;
            if (!c->code[same].name)
                c->code[same].name = in->name;
            in->op = IR_NOP;
        }
    }
    compact(mem, c);
}

/* ---- cse: one value per distinct pure computation ----------------------- */

/* Hashes exactly the fields inst_same compares. */
static uint64_t inst_hash(const ir_inst *in)
{
    uint64_t h = (uint64_t)in->op * 0x9e3779b97f4a7c15u ^ (uint64_t)in->type;
    if (in->op == IR_CONST) {
        uint64_t imm;
        memcpy(&imm, &in->imm, sizeof imm);
        return (h ^ imm) * 0x100000001b3u;
    }
    if (in->op == IR_INPUT || in->op == IR_PARAM || in->op == IR_LOAD)
        return (h ^ in->a) * 0x100000001b3u;
    if (in->op == IR_LOADX)
        h = (h ^ in->slot ^ ((uint64_t)ir_range_len(in) << 32)) * 0x100000001b3u;
    int n = ir_n_operands(in->op);
    if (n > 0) h = (h ^ in->a) * 0x100000001b3u;
    if (n > 1) h = (h ^ in->b) * 0x100000001b3u;
    if (n > 2) h = (h ^ in->c) * 0x100000001b3u;
    return h;
}

static int inst_same(const ir_inst *x, const ir_inst *y)
{
    int n = ir_n_operands(x->op);
    if (x->op != y->op || x->type != y->type)
        return 0;
    if (x->op == IR_CONST)
        return memcmp(&x->imm, &y->imm, sizeof x->imm) == 0;
    if (x->op == IR_INPUT || x->op == IR_PARAM || x->op == IR_LOAD)
        return x->a == y->a;
    if (x->op == IR_LOADX && (x->slot != y->slot || ir_range_len(x) != ir_range_len(y)))
        return 0;
    return (n < 1 || x->a == y->a) && (n < 2 || x->b == y->b) && (n < 3 || x->c == y->c);
}

void pass_cse(arena *mem, ir_circuit *c)
{
    size_t cap = 16;
    while (cap < (size_t)c->n_code * 2)
        cap *= 2;
    uint32_t *table = arena_calloc(mem, cap, sizeof *table); /* value + 1 */
    uint32_t *map = identity_map(mem, c->n_code);
    for (uint32_t i = 0; i < c->n_code; i++) {
        ir_inst *in = &c->code[i];
        remap_operands(in, map);
        if (!ir_has_result(in->op))
            continue;
        size_t h = (size_t)inst_hash(in) & (cap - 1);
        for (;; h = (h + 1) & (cap - 1)) {
            if (!table[h]) {
                table[h] = i + 1;
                break;
            }
            if (inst_same(&c->code[table[h] - 1], in)) {
                map[i] = table[h] - 1;
                if (!c->code[map[i]].name)
                    c->code[map[i]].name = in->name; /* keep the signal's name */
                in->op = IR_NOP;
                break;
            }
        }
    }
    compact(mem, c);
}

/* ---- dce: values and state slots that reach no output or return -------- */

/* The liveness unit of each state slot: a slot alone, or a run of slots
 * that indexed ops (rings) touch, which lives or dies as a whole so that it
 * stays consecutive. Returns the number of units. */
static uint32_t slot_units(arena *mem, const ir_circuit *c, uint32_t *unit)
{
    int *cover = arena_calloc(mem, (size_t)c->n_state + 2, sizeof *cover);
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *in = &c->code[i];
        if (in->op == IR_LOADX || in->op == IR_STOREX || in->op == IR_STOREX_IF) {
            cover[in->slot]++;
            cover[in->slot + ir_range_len(in)]--;
        }
    }
    uint32_t n = 0;
    int depth = 0, in_run = 0;
    for (uint32_t s = 0; s < c->n_state; s++) {
        depth += cover[s];
        if (depth > 0) {
            if (!in_run)
                n++;
            unit[s] = n - 1;
            in_run = 1;
        } else {
            unit[s] = n++;
            in_run = 0;
        }
    }
    return n;
}

void pass_dce(arena *mem, ir_circuit *c)
{
    /* A worklist from the outputs and the status: a live value makes its
     * operands live; a live load makes its slot's unit live, and a live unit
     * makes every store into it live. Learned weights are always live: a
     * host reads and saves them even when no output uses the predictor.
     * Each instruction and unit is visited once, so long chains of pre()
     * cost linear time. */
    uint32_t *unit = arena_calloc(mem, (size_t)c->n_state + 1, sizeof *unit);
    uint32_t n_units = slot_units(mem, c, unit);
    /* stores by unit, as compressed rows */
    uint32_t *first = arena_calloc(mem, (size_t)n_units + 2, sizeof *first);
    for (uint32_t i = 0; i < c->n_code; i++) {
        ir_op op = c->code[i].op;
        if (op == IR_STORE || op == IR_STORE_IF || op == IR_STOREX || op == IR_STOREX_IF)
            first[unit[c->code[i].slot] + 1]++;
    }
    for (uint32_t u = 0; u < n_units; u++)
        first[u + 1] += first[u];
    uint32_t *stores = arena_calloc(mem, (size_t)first[n_units] + 1, sizeof *stores);
    uint32_t *fill = arena_calloc(mem, (size_t)n_units + 1, sizeof *fill);
    for (uint32_t i = 0; i < c->n_code; i++) {
        ir_op op = c->code[i].op;
        if (op == IR_STORE || op == IR_STORE_IF || op == IR_STOREX || op == IR_STOREX_IF) {
            uint32_t u = unit[c->code[i].slot];
            stores[first[u] + fill[u]++] = i;
        }
    }
    unsigned char *live = arena_calloc(mem, (size_t)c->n_code + 1, 1);
    unsigned char *unit_live = arena_calloc(mem, (size_t)n_units + 1, 1);
    uint32_t *work = arena_calloc(mem, (size_t)c->n_code + 1, sizeof *work);
    uint32_t top = 0;
#define PUSH(i) do { if (!live[i]) { live[i] = 1; work[top++] = (i); } } while (0)
#define UNIT_LIVE(u) do { uint32_t u_ = (u); if (!unit_live[u_]) { unit_live[u_] = 1; \
        for (uint32_t k_ = first[u_]; k_ < first[u_ + 1]; k_++) PUSH(stores[k_]); } } while (0)
    for (uint32_t i = 0; i < c->n_code; i++)
        if (c->code[i].op == IR_OUTPUT || c->code[i].op == IR_RETURN)
            PUSH(i);
    for (uint32_t s = 0; s < c->n_state; s++)
        if (c->state[s].role == IR_ROLE_WEIGHT)
            UNIT_LIVE(unit[s]);
    while (top > 0) {
        const ir_inst *in = &c->code[work[--top]];
        int n = ir_n_operands(in->op);
        if (n > 0) PUSH(in->a);
        if (n > 1) PUSH(in->b);
        if (n > 2) PUSH(in->c);
        if (in->op == IR_LOAD)
            UNIT_LIVE(unit[in->a]);
        else if (in->op == IR_LOADX)
            UNIT_LIVE(unit[in->slot]);
    }
#undef PUSH
#undef UNIT_LIVE
    unsigned char *slot_live = arena_calloc(mem, (size_t)c->n_state + 1, 1);
    for (uint32_t s = 0; s < c->n_state; s++)
        slot_live[s] = unit_live[unit[s]];
    for (uint32_t i = 0; i < c->n_code; i++)
        if (!live[i])
            c->code[i].op = IR_NOP;

    /* Remove dead slots and renumber the rest. */
    uint32_t *slot_map = arena_calloc(mem, (size_t)c->n_state + 1, sizeof *slot_map);
    uint32_t n = 0;
    for (uint32_t s = 0; s < c->n_state; s++) {
        slot_map[s] = n;
        if (slot_live[s])
            c->state[n++] = c->state[s];
    }
    if (n != c->n_state) {
        c->n_state = n;
        for (uint32_t i = 0; i < c->n_code; i++) {
            ir_inst *in = &c->code[i];
            if (in->op == IR_LOAD)
                in->a = slot_map[in->a];
            else if (in->op == IR_STORE || in->op == IR_STORE_IF || in->op == IR_LOADX ||
                     in->op == IR_STOREX || in->op == IR_STOREX_IF)
                in->slot = slot_map[in->slot];
        }
        ir_layout(c);
    }
    compact(mem, c);
}

/* ---- the recipe --------------------------------------------------------- */

typedef struct pass_def {
    const char *name;
    void (*run)(arena *, ir_circuit *);
} pass_def;

static const pass_def RECIPE[] = {
    { "fold", pass_fold }, /* constants and exact identities */
    { "cse", pass_cse },   /* share equal computations (may expose more folding) */
    { "fold", pass_fold },
    { "dce", pass_dce },   /* drop what reaches no output or return, and unread state */
};

const char *const pass_names[] = { "lower", "fold", "cse", "dce", NULL };

int pass_wants_dump(const pass_options *opt, const ir_circuit *c, const char *pass)
{
    if (!opt || !opt->dump || !opt->dump_after)
        return 0;
    if (opt->circuit && strcmp(opt->circuit, c->name) != 0)
        return 0;
    return !strcmp(opt->dump_after, "all") || !strcmp(opt->dump_after, pass);
}

static void dump(const pass_options *opt, const ir_circuit *c, const char *pass)
{
    if (!pass_wants_dump(opt, c, pass))
        return;
    fprintf(opt->dump, "; after %s\n", pass);
    ir_print(opt->dump, c);
}

const char *pass_run_all(arena *mem, ir_circuit *c, const pass_options *opt)
{
    dump(opt, c, "lower");
    const char *err = ir_verify(mem, c);
    if (err)
        return arena_printf(mem, "IR invalid after lowering: %s", err);
    for (size_t i = 0; i < sizeof RECIPE / sizeof RECIPE[0]; i++) {
        RECIPE[i].run(mem, c);
        if ((err = ir_verify(mem, c)))
            return arena_printf(mem, "IR invalid after pass %s: %s", RECIPE[i].name, err);
        dump(opt, c, RECIPE[i].name);
    }
    return NULL;
}
