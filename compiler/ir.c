/* ir.c — building, laying out, printing and verifying the IR. */
#include "ir.h"

#include "drive_abi.h"
#include "rt.h"

#include <stdlib.h>
#include <string.h>

ir_circuit *ir_new(arena *a, const char *module, const char *name, double tick)
{
    ir_circuit *c = arena_alloc(a, sizeof *c);
    c->module = module;
    c->name = name;
    c->tick_seconds = tick;
    return c;
}

static ir_var **block_vars(ir_circuit *c, int block, uint32_t **n)
{
    switch (block) {
    case IR_BLOCK_IN: *n = &c->n_inputs; return &c->inputs;
    case IR_BLOCK_OUT: *n = &c->n_outputs; return &c->outputs;
    case IR_BLOCK_PARAM: *n = &c->n_params; return &c->params;
    default: *n = &c->n_state; return &c->state;
    }
}

static const char *dup_or_null(arena *a, const char *s) { return s ? arena_strdup(a, s) : NULL; }

ir_circuit *ir_clone(arena *a, const ir_circuit *c)
{
    ir_circuit *d = arena_alloc(a, sizeof *d);
    *d = *c;
    d->module = dup_or_null(a, c->module);
    d->name = dup_or_null(a, c->name);
    for (int block = 0; block < 4; block++) {
        uint32_t *n;
        ir_var **vars = block_vars(d, block, &n);
        const ir_var *from = *vars;
        d->cap_vars[block] = *n;
        *vars = *n ? arena_calloc(a, *n, sizeof **vars) : NULL;
        for (uint32_t i = 0; i < *n; i++) {
            ir_var *v = &(*vars)[i];
            *v = from[i];
            v->name = dup_or_null(a, from[i].name);
            v->note = dup_or_null(a, from[i].note);
            v->base = from[i].base == from[i].name ? v->name : dup_or_null(a, from[i].base);
        }
    }
    d->cap_code = c->n_code;
    d->code = c->n_code ? arena_calloc(a, c->n_code, sizeof *d->code) : NULL;
    for (uint32_t i = 0; i < c->n_code; i++) {
        d->code[i] = c->code[i];
        d->code[i].name = dup_or_null(a, c->code[i].name);
    }
    return d;
}

uint32_t ir_add_var(arena *a, ir_circuit *c, int block, const char *name,
                    ir_type t, double init, const char *note)
{
    uint32_t *n;
    ir_var **vars = block_vars(c, block, &n);
    uint32_t *cap = &c->cap_vars[block];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        ir_var *nv = arena_calloc(a, *cap, sizeof *nv);
        if (*n)
            memcpy(nv, *vars, *n * sizeof *nv);
        *vars = nv;
    }
    (*vars)[*n] = (ir_var){ .name = name, .type = t, .init = init, .note = note };
    return (*n)++;
}

uint32_t ir_emit(arena *a, ir_circuit *c, ir_inst inst)
{
    if (c->n_code == c->cap_code) {
        uint32_t cap = c->cap_code ? c->cap_code * 2 : 64;
        ir_inst *code = arena_calloc(a, cap, sizeof *code);
        if (c->n_code)
            memcpy(code, c->code, c->n_code * sizeof *code);
        c->code = code;
        c->cap_code = cap;
    }
    c->code[c->n_code] = inst;
    return c->n_code++;
}

static uint32_t type_size(ir_type t) { return t == IR_F64 ? 8 : 1; }

/* C struct rules in declaration order: align each field to its size. */
static uint32_t layout_struct(ir_var *v, uint32_t n)
{
    uint32_t off = 0, align = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = type_size(v[i].type);
        off = (off + s - 1) / s * s;
        v[i].offset = off;
        off += s;
        if (s > align)
            align = s;
    }
    return (off + align - 1) / align * align;
}

void ir_layout(ir_circuit *c)
{
    c->in_size = layout_struct(c->inputs, c->n_inputs);
    c->out_size = layout_struct(c->outputs, c->n_outputs);
    /* State block: f64 params, f64 slots, then bool params, bool slots. */
    uint32_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        ir_type want = pass == 0 ? IR_F64 : IR_BOOL;
        for (uint32_t i = 0; i < c->n_params; i++)
            if (c->params[i].type == want) {
                c->params[i].offset = off;
                off += type_size(want);
            }
        for (uint32_t i = 0; i < c->n_state; i++)
            if (c->state[i].type == want) {
                c->state[i].offset = off;
                off += type_size(want);
            }
    }
    c->state_size = (off + 7) / 8 * 8;
}

void ir_copy_instance(const ir_circuit *c, int block, void *cols, size_t n, size_t i, void *one,
                      int to_cols)
{
    const ir_var *sets[2] = { c->params, c->state };
    uint32_t ns[2] = { c->n_params, c->n_state };
    if (block == IR_BLOCK_IN || block == IR_BLOCK_OUT) {
        sets[0] = block == IR_BLOCK_IN ? c->inputs : c->outputs;
        ns[0] = block == IR_BLOCK_IN ? c->n_inputs : c->n_outputs;
        ns[1] = 0;
    }
    for (int s = 0; s < 2; s++)
        for (uint32_t f = 0; f < ns[s]; f++) {
            size_t w = type_size(sets[s][f].type), o = sets[s][f].offset;
            unsigned char *col = (unsigned char *)cols + o * drive_abi_columns(n) + w * i;
            unsigned char *own = (unsigned char *)one + o;
            memcpy(to_cols ? col : own, to_cols ? own : col, w);
        }
}

int ir_has_result(ir_op op)
{
    return op != IR_OUTPUT && op != IR_STORE && op != IR_STORE_IF && op != IR_STOREX &&
           op != IR_STOREX_IF && op != IR_RETURN && op != IR_NOP;
}

int ir_n_operands(ir_op op)
{
    switch (op) {
    case IR_CONST: case IR_INPUT: case IR_PARAM: case IR_LOAD: case IR_NOP:
        return 0;
    case IR_NEG: case IR_NOT: case IR_OUTPUT: case IR_STORE: case IR_RETURN:
    case IR_EXP: case IR_LOG: case IR_TANH: case IR_SIN: case IR_COS: case IR_SQRT:
    case IR_ABS: case IR_FLOOR: case IR_EXPM1: case IR_LOADX:
        return 1;
    case IR_SELECT: case IR_STOREX_IF:
        return 3;
    default:
        return 2;
    }
}

const char *ir_op_name(ir_op op)
{
    static const char *names[] = {
        [IR_CONST] = "const", [IR_INPUT] = "input", [IR_PARAM] = "param",
        [IR_LOAD] = "load", [IR_NEG] = "neg", [IR_ADD] = "add", [IR_SUB] = "sub",
        [IR_MUL] = "mul", [IR_DIV] = "div", [IR_EXP] = "exp", [IR_LOG] = "log",
        [IR_TANH] = "tanh", [IR_SIN] = "sin", [IR_COS] = "cos", [IR_SQRT] = "sqrt",
        [IR_ABS] = "abs", [IR_FLOOR] = "floor", [IR_EXPM1] = "expm1", [IR_LT] = "lt", [IR_LE] = "le",
        [IR_GT] = "gt", [IR_GE] = "ge", [IR_EQ] = "eq", [IR_NE] = "ne",
        [IR_NOT] = "not", [IR_AND] = "and", [IR_OR] = "or",
        [IR_SELECT] = "select", [IR_OUTPUT] = "output", [IR_STORE] = "store", [IR_STORE_IF] = "store_if",
        [IR_LOADX] = "loadx", [IR_STOREX] = "storex", [IR_STOREX_IF] = "storex_if",
        [IR_RETURN] = "return", [IR_NOP] = "nop",
    };
    return names[op];
}

const char *ir_type_name(ir_type t) { return t == IR_F64 ? "real" : "bool"; }

const char *ir_fmt_f64(char *buf, double d) { return rt_fmt_f64(buf, d); }

static void print_value_operand(FILE *f, const ir_circuit *c, uint32_t v)
{
    (void)c;
    fprintf(f, "%%%u", v);
}

static void print_var(FILE *f, const char *kind, const ir_var *v, int with_init)
{
    char buf[32], buf2[32];
    fprintf(f, "  %-6s %s : %s", kind, v->name, ir_type_name(v->type));
    if (with_init) {
        if (v->type == IR_BOOL)
            fprintf(f, " = %s", v->init != 0 ? "true" : "false");
        else
            fprintf(f, " = %s", ir_fmt_f64(buf, v->init));
    }
    if (v->has_range)
        fprintf(f, " in [%s, %s]", ir_fmt_f64(buf, v->lo), ir_fmt_f64(buf2, v->hi));
    static const char *const roles[] = { [IR_ROLE_LEARNED] = "learned",
                                         [IR_ROLE_REWARD] = "reward stream",
                                         [IR_ROLE_TOTAL] = "total reward",
                                         [IR_ROLE_WEIGHT] = "learned weight",
                                         [IR_ROLE_PROBE] = "probe" };
    if (v->role != IR_ROLE_PLAIN)
        fprintf(f, " (%s)", roles[v->role]);
    fprintf(f, "  @%u", v->offset);
    if (v->note)
        fprintf(f, "  ; %s", v->note);
    fputc('\n', f);
}

void ir_print(FILE *f, const ir_circuit *c)
{
    char buf[32];
    fprintf(f, "circuit %s.%s  ; tick %s s\n", c->module, c->name,
            ir_fmt_f64(buf, c->tick_seconds));
    fprintf(f, "  ; in %u bytes, out %u bytes, state %u bytes\n", c->in_size,
            c->out_size, c->state_size);
    for (uint32_t i = 0; i < c->n_inputs; i++)
        print_var(f, "input", &c->inputs[i], 0);
    for (uint32_t i = 0; i < c->n_params; i++)
        print_var(f, "param", &c->params[i], 1);
    for (uint32_t i = 0; i < c->n_state; i++)
        print_var(f, "state", &c->state[i], 1);
    for (uint32_t i = 0; i < c->n_outputs; i++)
        print_var(f, "output", &c->outputs[i], 0);
    fprintf(f, "step:\n");
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *in = &c->code[i];
        if (in->op == IR_NOP)
            continue;
        fprintf(f, "  ");
        if (ir_has_result(in->op))
            fprintf(f, "%%%u = %s %s", i, ir_op_name(in->op), ir_type_name(in->type));
        else
            fprintf(f, "%s", ir_op_name(in->op));
        switch (in->op) {
        case IR_CONST:
            if (in->type == IR_BOOL)
                fprintf(f, " %s", in->imm != 0 ? "true" : "false");
            else
                fprintf(f, " %s", ir_fmt_f64(buf, in->imm));
            break;
        case IR_INPUT: fprintf(f, " %s", c->inputs[in->a].name); break;
        case IR_PARAM: fprintf(f, " %s", c->params[in->a].name); break;
        case IR_LOAD: fprintf(f, " %s", c->state[in->a].name); break;
        case IR_LOADX:
        case IR_STOREX:
        case IR_STOREX_IF:
            fprintf(f, " %s[", c->state[in->slot].name);
            print_value_operand(f, c, in->op == IR_LOADX ? in->a : in->b);
            fprintf(f, " of %u]", ir_range_len(in));
            if (in->op != IR_LOADX) {
                fputs(", ", f);
                print_value_operand(f, c, in->a);
            }
            if (in->op == IR_STOREX_IF) {
                fputs(" if ", f);
                print_value_operand(f, c, in->c);
            }
            break;
        case IR_OUTPUT:
            fprintf(f, " %s, ", c->outputs[in->slot].name);
            print_value_operand(f, c, in->a);
            break;
        case IR_STORE:
        case IR_STORE_IF:
            fprintf(f, " %s, ", c->state[in->slot].name);
            print_value_operand(f, c, in->a);
            if (in->op == IR_STORE_IF) {
                fputs(" if ", f);
                print_value_operand(f, c, in->b);
            }
            break;
        default:
            for (int k = 0; k < ir_n_operands(in->op); k++) {
                fputs(k ? ", " : " ", f);
                print_value_operand(f, c, k == 0 ? in->a : k == 1 ? in->b : in->c);
            }
        }
        if (in->name && ir_has_result(in->op) && in->op != IR_INPUT && in->op != IR_PARAM)
            fprintf(f, "  ; %s", in->name);
        fputc('\n', f);
    }
}

uint32_t ir_range_len(const ir_inst *in)
{
    return in->imm >= 1 && in->imm <= 4294967295.0 ? (uint32_t)in->imm : 0;
}

/* Whether [slot, slot + len) are f64 slots one after the other in memory. */
static int range_ok(const ir_circuit *c, const ir_inst *in)
{
    uint32_t len = ir_range_len(in);
    if (len == 0 || in->slot >= c->n_state || len > c->n_state - in->slot)
        return 0;
    for (uint32_t k = 0; k < len; k++) {
        const ir_var *v = &c->state[in->slot + k];
        if (v->type != IR_F64 || v->offset != c->state[in->slot].offset + 8 * k)
            return 0;
    }
    return 1;
}

const char *ir_verify(arena *a, const ir_circuit *c)
{
    unsigned char *written = arena_calloc(a, c->n_outputs + 1, 1);
    uint32_t returned = UINT32_MAX; /* the return seen so far */
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *in = &c->code[i];
        uint32_t ops[3] = { in->a, in->b, in->c };
        int n = ir_n_operands(in->op);
        for (int k = 0; k < n; k++) {
            if (ops[k] >= i)
                return arena_printf(a, "%%%u: operand %%%u used before it is defined", i, ops[k]);
            if (!ir_has_result(c->code[ops[k]].op))
                return arena_printf(a, "%%%u: operand %%%u has no value", i, ops[k]);
        }
        ir_type ta = n > 0 ? c->code[in->a].type : IR_F64;
        ir_type tb = n > 1 ? c->code[in->b].type : IR_F64;
        switch (in->op) {
        case IR_CONST: case IR_NOP:
            break;
        case IR_INPUT:
            if (in->a >= c->n_inputs || c->inputs[in->a].type != in->type)
                return arena_printf(a, "%%%u: bad input reference", i);
            break;
        case IR_PARAM:
            if (in->a >= c->n_params || c->params[in->a].type != in->type)
                return arena_printf(a, "%%%u: bad param reference", i);
            break;
        case IR_LOAD:
            if (in->a >= c->n_state || c->state[in->a].type != in->type)
                return arena_printf(a, "%%%u: bad state reference", i);
            break;
        case IR_LOADX:
        case IR_STOREX:
        case IR_STOREX_IF:
            if (!range_ok(c, in))
                return arena_printf(a, "%%%u: bad state range", i);
            if (in->op == IR_LOADX ? (ta != IR_F64 || in->type != IR_F64)
                                   : (ta != IR_F64 || tb != IR_F64))
                return arena_printf(a, "%%%u: %s needs real values and index", i,
                                    ir_op_name(in->op));
            if (in->op == IR_STOREX_IF && c->code[in->c].type != IR_BOOL)
                return arena_printf(a, "%%%u: storex_if needs a bool guard", i);
            break;
        case IR_NEG:
        case IR_EXP: case IR_LOG: case IR_TANH: case IR_SIN: case IR_COS: case IR_SQRT:
        case IR_ABS: case IR_FLOOR: case IR_EXPM1:
            if (ta != IR_F64 || in->type != IR_F64)
                return arena_printf(a, "%%%u: %s needs real", i, ir_op_name(in->op));
            break;
        case IR_ADD: case IR_SUB: case IR_MUL: case IR_DIV:
            if (ta != IR_F64 || tb != IR_F64 || in->type != IR_F64)
                return arena_printf(a, "%%%u: %s needs real operands", i, ir_op_name(in->op));
            break;
        case IR_LT: case IR_LE: case IR_GT: case IR_GE:
            if (ta != IR_F64 || tb != IR_F64 || in->type != IR_BOOL)
                return arena_printf(a, "%%%u: %s needs real operands", i, ir_op_name(in->op));
            break;
        case IR_EQ: case IR_NE:
            if (ta != tb || in->type != IR_BOOL)
                return arena_printf(a, "%%%u: %s needs operands of one type", i, ir_op_name(in->op));
            break;
        case IR_NOT:
            if (ta != IR_BOOL || in->type != IR_BOOL)
                return arena_printf(a, "%%%u: not needs bool", i);
            break;
        case IR_AND: case IR_OR:
            if (ta != IR_BOOL || tb != IR_BOOL || in->type != IR_BOOL)
                return arena_printf(a, "%%%u: %s needs bool operands", i, ir_op_name(in->op));
            break;
        case IR_SELECT:
            if (ta != IR_BOOL || tb != in->type || c->code[in->c].type != in->type)
                return arena_printf(a, "%%%u: select types disagree", i);
            break;
        case IR_OUTPUT:
            if (in->slot >= c->n_outputs || c->outputs[in->slot].type != ta)
                return arena_printf(a, "%%%u: bad output", i);
            if (written[in->slot]++)
                return arena_printf(a, "%%%u: output %s written twice", i, c->outputs[in->slot].name);
            break;
        case IR_STORE:
        case IR_STORE_IF:
            if (in->slot >= c->n_state || c->state[in->slot].type != ta)
                return arena_printf(a, "%%%u: bad store", i);
            if (in->op == IR_STORE_IF && c->code[in->b].type != IR_BOOL)
                return arena_printf(a, "%%%u: store_if needs a bool guard", i);
            break;
        case IR_RETURN:
            if (ta != IR_BOOL)
                return arena_printf(a, "%%%u: return needs bool", i);
            if (returned != UINT32_MAX)
                return arena_printf(a, "%%%u: a second return (the first is %%%u)", i, returned);
            returned = i;
            break;
        }
    }
    for (uint32_t o = 0; o < c->n_outputs; o++)
        if (!written[o])
            return arena_printf(a, "output %s is never written", c->outputs[o].name);
    return NULL;
}
