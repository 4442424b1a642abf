/* lower.c — from checked AST to the flat IR.
 *
 * Semantics made explicit here (see lang/SPEC.md):
 *  - definitions are evaluated in the order sema computed (dependencies
 *    first), each exactly once per tick;
 *  - pre(e, init) reads a state slot holding e's value from the previous
 *    tick; the slot is written after every definition of the tick. Before
 *    the first tick it holds init (0 or false without one). An init that is
 *    not constant is evaluated at the first tick, selected by a `first` flag.
 *  - durations are seconds; `n ticks` is n times the module's tick.
 */
#include "lower.h"

#include <string.h>

typedef struct pending_store {
    uint32_t slot;
    const ast_expr *expr;
    uint32_t value;
} pending_store;

typedef struct lower_ctx {
    arena *mem;
    const sema_module *mod;
    const sema_circuit *sc;
    ir_circuit *ir;
    uint32_t *sym_value;   /* IR value of each symbol, UINT32_MAX if not yet */
    uint32_t *sym_var;     /* input/param/output var index */
    arena_vec stores;      /* pending_store */
    int first_slot;        /* state slot of the `first` flag, -1 if none */
    uint32_t first_value;  /* its loaded value, UINT32_MAX if not loaded */
    arena_vec pre_keys;    /* pre_key: slots of pre(name) to share */
    int *key_head;         /* per symbol: its first pre_key, or -1 */
    unsigned *slots_of_sym;/* per symbol: slots made for pre() of it */
    unsigned expr_slots;   /* slots made for pre() of expressions */
} lower_ctx;

/* A slot holding pre() of a named signal, chained per signal. */
typedef struct pre_key {
    double init;
    uint32_t slot;
    int next;              /* the signal's next key, or -1 */
} pre_key;

enum { NONE = UINT32_MAX };

static ir_type ir_ty(ast_type t) { return t == TY_BOOL ? IR_BOOL : IR_F64; }

static uint32_t emit(lower_ctx *x, ir_op op, ir_type t, uint32_t a, uint32_t b, uint32_t c)
{
    return ir_emit(x->mem, x->ir, (ir_inst){ .op = op, .type = t, .a = a, .b = b, .c = c });
}

static uint32_t emit_const(lower_ctx *x, ir_type t, double v)
{
    return ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_CONST, .type = t, .imm = v });
}

static uint32_t lower_expr(lower_ctx *x, const ast_expr *e);

static uint32_t first_flag(lower_ctx *x)
{
    if (x->first_slot < 0)
        x->first_slot = (int)ir_add_var(x->mem, x->ir, IR_BLOCK_STATE, "first", IR_BOOL, 1,
                                        "true until the end of the first tick");
    if (x->first_value == NONE)
        x->first_value = ir_emit(x->mem, x->ir,
                                 (ir_inst){ .op = IR_LOAD, .type = IR_BOOL,
                                            .a = (uint32_t)x->first_slot, .name = "first" });
    return x->first_value;
}

static uint32_t lower_pre(lower_ctx *x, const ast_expr *e)
{
    const ast_expr *arg = e->args.items[0];
    const ast_expr *init = e->args.len > 1 ? e->args.items[1] : NULL;
    ir_type t = ir_ty(e->type);
    double init_value = 0;
    int init_const = !init || sema_const_value(x->mod, init, &init_value);

    /* pre(name, c) of one signal and initial value shares one slot; with an
     * initial value read at the first tick, the slot's own initial value is
     * never seen, so any slot of the signal will do. */
    uint32_t slot = NONE;
    if (arg->kind == EX_NAME)
        for (int k = x->key_head[arg->sym]; k >= 0 && slot == NONE;) {
            const pre_key *key = &((pre_key *)x->pre_keys.data)[k];
            if (!init_const || memcmp(&key->init, &init_value, sizeof init_value) == 0)
                slot = key->slot;
            k = key->next;
        }
    if (slot == NONE) {
        /* Unique names for reflection: pre_x, then pre2_x, pre3_x for more
         * slots of x; pre, pre2, ... for pre() of expressions. No two can
         * meet, since a signal's name cannot start with a digit. */
        const char *name, *note;
        if (arg->kind == EX_NAME) {
            unsigned k = ++x->slots_of_sym[arg->sym];
            name = k == 1 ? arena_printf(x->mem, "pre_%s", arg->name)
                          : arena_printf(x->mem, "pre%u_%s", k, arg->name);
            note = arena_printf(x->mem, "pre(%s)", arg->name);
        } else {
            unsigned k = ++x->expr_slots;
            name = k == 1 ? "pre" : arena_printf(x->mem, "pre%u", k);
            note = arena_printf(x->mem, "pre(...) at line %d", e->loc.line);
        }
        slot = ir_add_var(x->mem, x->ir, IR_BLOCK_STATE, name, t, init_const ? init_value : 0, note);
        pending_store *ps = arena_vec_push(x->mem, &x->stores);
        ps->slot = slot;
        ps->expr = arg;
        if (arg->kind == EX_NAME) {
            pre_key *key = arena_vec_push(x->mem, &x->pre_keys);
            key->init = init_value;
            key->slot = slot;
            key->next = x->key_head[arg->sym];
            x->key_head[arg->sym] = (int)x->pre_keys.len - 1;
        }
    }
    uint32_t v = ir_emit(x->mem, x->ir,
                         (ir_inst){ .op = IR_LOAD, .type = t, .a = slot,
                                    .name = x->ir->state[slot].note });
    if (init_const)
        return v;
    uint32_t first = first_flag(x);
    uint32_t iv = lower_expr(x, init);
    return emit(x, IR_SELECT, t, first, iv, v);
}

static ir_op binop(ast_op op)
{
    switch (op) {
    case OP_ADD: return IR_ADD;
    case OP_SUB: return IR_SUB;
    case OP_MUL: return IR_MUL;
    case OP_DIV: return IR_DIV;
    case OP_LT: return IR_LT;
    case OP_LE: return IR_LE;
    case OP_GT: return IR_GT;
    case OP_GE: return IR_GE;
    case OP_EQ: return IR_EQ;
    case OP_NE: return IR_NE;
    case OP_AND: return IR_AND;
    default: return IR_OR;
    }
}

static uint32_t lower_name(lower_ctx *x, const ast_expr *e)
{
    if (e->sym < 0) /* `dt` */
        return emit_const(x, IR_F64, x->mod->tick_seconds);
    const sema_sym *s = &x->sc->syms[e->sym];
    if (x->sym_value[e->sym] != NONE)
        return x->sym_value[e->sym];
    uint32_t v;
    if (s->kind == SYM_INPUT)
        v = ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_INPUT, .type = ir_ty(s->type),
                                              .a = x->sym_var[e->sym], .name = s->name });
    else /* SYM_PARAM; lets and outputs are lowered before their uses */
        v = ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_PARAM, .type = ir_ty(s->type),
                                              .a = x->sym_var[e->sym], .name = s->name });
    x->sym_value[e->sym] = v;
    return v;
}

static uint32_t lower_expr(lower_ctx *x, const ast_expr *e)
{
    switch (e->kind) {
    case EX_NUM:
    case EX_DUR:
        return emit_const(x, IR_F64, e->num);
    case EX_TICKS:
        return emit_const(x, IR_F64, e->num * x->mod->tick_seconds);
    case EX_BOOL:
        return emit_const(x, IR_BOOL, e->num);
    case EX_NAME:
        return lower_name(x, e);
    case EX_UNARY: {
        uint32_t a = lower_expr(x, e->lhs);
        return emit(x, e->op == OP_NEG ? IR_NEG : IR_NOT, ir_ty(e->type), a, 0, 0);
    }
    case EX_BINARY: {
        uint32_t a = lower_expr(x, e->lhs);
        uint32_t b = lower_expr(x, e->rhs);
        return emit(x, binop(e->op), ir_ty(e->type), a, b, 0);
    }
    case EX_IF: {
        uint32_t c = lower_expr(x, e->cond);
        uint32_t a = lower_expr(x, e->lhs);
        uint32_t b = lower_expr(x, e->rhs);
        return emit(x, IR_SELECT, ir_ty(e->type), c, a, b);
    }
    case EX_CALL: /* only pre() exists in this subset */
        return lower_pre(x, e);
    }
    return NONE;
}

ir_circuit *lower_circuit(arena *mem, const sema_module *m, const sema_circuit *c)
{
    lower_ctx x = { .mem = mem, .mod = m, .sc = c, .first_slot = -1, .first_value = NONE };
    x.ir = ir_new(mem, m->name, c->name, m->tick_seconds);
    x.sym_value = arena_calloc(mem, (size_t)c->n_syms + 1, sizeof *x.sym_value);
    x.sym_var = arena_calloc(mem, (size_t)c->n_syms + 1, sizeof *x.sym_var);
    x.key_head = arena_calloc(mem, (size_t)c->n_syms + 1, sizeof *x.key_head);
    x.slots_of_sym = arena_calloc(mem, (size_t)c->n_syms + 1, sizeof *x.slots_of_sym);
    arena_vec_init(&x.stores, sizeof(pending_store));
    arena_vec_init(&x.pre_keys, sizeof(pre_key));
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        x.sym_value[i] = NONE;
        x.key_head[i] = -1;
        if (s->kind == SYM_INPUT)
            x.sym_var[i] = ir_add_var(mem, x.ir, IR_BLOCK_IN, s->name, ir_ty(s->type), 0, NULL);
        else if (s->kind == SYM_OUTPUT)
            x.sym_var[i] = ir_add_var(mem, x.ir, IR_BLOCK_OUT, s->name, ir_ty(s->type), 0, NULL);
        else if (s->kind == SYM_PARAM)
            x.sym_var[i] = ir_add_var(mem, x.ir, IR_BLOCK_PARAM, s->name, ir_ty(s->type),
                                      s->value, NULL);
    }
    for (int k = 0; k < c->n_order; k++) {
        int i = c->order[k];
        const sema_sym *s = &c->syms[i];
        uint32_t v = lower_expr(&x, s->def);
        if (!x.ir->code[v].name)
            x.ir->code[v].name = s->name;
        x.sym_value[i] = v;
        if (s->kind == SYM_OUTPUT)
            ir_emit(mem, x.ir, (ir_inst){ .op = IR_OUTPUT, .type = ir_ty(s->type), .a = v,
                                          .slot = x.sym_var[i] });
    }
    /* End of tick: state slots take this tick's values. Every value is
     * computed before the first store, so each load still sees last tick's
     * state; lowering a stored expression may add pre() slots to the queue. */
    for (size_t k = 0; k < x.stores.len; k++) {
        const ast_expr *e = ((pending_store *)x.stores.data)[k].expr;
        uint32_t v = lower_expr(&x, e);
        ((pending_store *)x.stores.data)[k].value = v;
    }
    for (size_t k = 0; k < x.stores.len; k++) {
        pending_store ps = ((pending_store *)x.stores.data)[k];
        ir_emit(mem, x.ir, (ir_inst){ .op = IR_STORE, .type = x.ir->state[ps.slot].type,
                                      .a = ps.value, .slot = ps.slot });
    }
    if (x.first_slot >= 0) {
        uint32_t f = emit_const(&x, IR_BOOL, 0);
        ir_emit(mem, x.ir, (ir_inst){ .op = IR_STORE, .type = IR_BOOL, .a = f,
                                      .slot = (uint32_t)x.first_slot });
    }
    ir_layout(x.ir);
    return x.ir;
}
