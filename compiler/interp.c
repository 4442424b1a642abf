/* interp.c — a direct, obviously-correct execution of the IR. Clarity over
 * speed: this is the reference the compiled code is checked against. */
#include "interp.h"

#include "rt_math.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct interp {
    const ir_circuit *c;
    double *vals; /* one per instruction; bools as 0 or 1 */
};

interp *interp_new(const ir_circuit *c)
{
    interp *ip = malloc(sizeof *ip);
    double *vals = calloc((size_t)c->n_code + 1, sizeof *vals);
    if (!ip || !vals) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    ip->c = c;
    ip->vals = vals;
    return ip;
}

void interp_free(interp *ip)
{
    if (!ip)
        return;
    free(ip->vals);
    free(ip);
}

static double load(const unsigned char *base, const ir_var *v)
{
    if (v->type == IR_BOOL)
        return base[v->offset] != 0;
    double d;
    memcpy(&d, base + v->offset, sizeof d);
    return d;
}

static void store(unsigned char *base, const ir_var *v, double x)
{
    if (v->type == IR_BOOL)
        base[v->offset] = x != 0;
    else
        memcpy(base + v->offset, &x, sizeof x);
}

void interp_init(const interp *ip, void *state)
{
    const ir_circuit *c = ip->c;
    memset(state, 0, c->state_size);
    for (uint32_t i = 0; i < c->n_params; i++)
        store(state, &c->params[i], c->params[i].init);
    for (uint32_t i = 0; i < c->n_state; i++)
        store(state, &c->state[i], c->state[i].init);
}

int interp_step(interp *ip, void *state, const void *in, void *out)
{
    const ir_circuit *c = ip->c;
    double *v = ip->vals;
    int status = 0;
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *n = &c->code[i];
        double a = 0, b = 0;
        int k = ir_n_operands(n->op);
        if (k > 0)
            a = v[n->a];
        if (k > 1)
            b = v[n->b];
        switch (n->op) {
        case IR_CONST: v[i] = n->type == IR_BOOL ? (n->imm != 0) : n->imm; break;
        case IR_INPUT: v[i] = load(in, &c->inputs[n->a]); break;
        case IR_PARAM: v[i] = load(state, &c->params[n->a]); break;
        case IR_LOAD: v[i] = load(state, &c->state[n->a]); break;
        case IR_LOADX:
            v[i] = load(state, &c->state[n->slot + ir_index(a, ir_range_len(n))]);
            break;
        case IR_STOREX:
            store(state, &c->state[n->slot + ir_index(b, ir_range_len(n))], a);
            break;
        case IR_STOREX_IF:
            if (v[n->c] != 0)
                store(state, &c->state[n->slot + ir_index(b, ir_range_len(n))], a);
            break;
        case IR_NEG: v[i] = -a; break;
        case IR_ADD: v[i] = a + b; break;
        case IR_SUB: v[i] = a - b; break;
        case IR_MUL: v[i] = a * b; break;
        case IR_DIV: v[i] = a / b; break;
        case IR_EXP: v[i] = rt_exp(a); break;
        case IR_LOG: v[i] = log(a); break;
        case IR_TANH: v[i] = rt_tanh(a); break;
        case IR_SIN: v[i] = sin(a); break;
        case IR_COS: v[i] = cos(a); break;
        case IR_SQRT: v[i] = sqrt(a); break;
        case IR_ABS: v[i] = fabs(a); break;
        case IR_FLOOR: v[i] = floor(a); break;
        case IR_EXPM1: v[i] = rt_expm1(a); break;
        case IR_LT: v[i] = a < b; break;
        case IR_LE: v[i] = a <= b; break;
        case IR_GT: v[i] = a > b; break;
        case IR_GE: v[i] = a >= b; break;
        case IR_EQ: v[i] = a == b; break;
        case IR_NE: v[i] = a != b; break;
        case IR_NOT: v[i] = a == 0; break;
        case IR_AND: v[i] = (a != 0) & (b != 0); break;
        case IR_OR: v[i] = (a != 0) | (b != 0); break;
        case IR_SELECT: v[i] = a != 0 ? b : v[n->c]; break;
        case IR_OUTPUT: store(out, &c->outputs[n->slot], a); break;
        case IR_STORE: store(state, &c->state[n->slot], a); break;
        case IR_STORE_IF:
            if (b != 0)
                store(state, &c->state[n->slot], a);
            break;
        case IR_RETURN: status = a != 0; break;
        case IR_NOP: break;
        }
    }
    return status;
}

static void bound_init(void *ctx, void *state) { interp_init(ctx, state); }
static int bound_step(void *ctx, void *state, const void *in, void *out)
{
    return interp_step(ctx, state, in, out);
}

void interp_bind(rt_circuit *c, interp *ip)
{
    c->ctx = ip;
    c->init = bound_init;
    c->step = bound_step;
}
