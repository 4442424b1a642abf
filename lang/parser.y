/* parser.y — grammar of the drive language.
 *
 * A pure parser with locations; every action is one call to an AST builder
 * (ast.h), so this file holds grammar only. Statements end at line breaks
 * (the scanner inserts SEP) or at ';'. Error rules resynchronise at the end
 * of a statement so one run reports every syntax error.
 */
%require "3.8"
%define api.pure full
%define api.prefix {dy}
%define api.location.type {src_loc}
%define parse.error custom
%define lr.default-reduction consistent
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {ast_builder *b}

%code requires {
#include "ast.h"
typedef void *yyscan_t;
}

%code provides {
int dylex(DYSTYPE *lval, DYLTYPE *lloc, yyscan_t scanner);
void dyerror(DYLTYPE *lloc, yyscan_t scanner, ast_builder *b, const char *msg);
}

%code {
#include "lex.h"
#include "parse.h"
#define YYLLOC_DEFAULT(Cur, Rhs, N) parse_span(&(Cur), (Rhs), (N))
}

%union {
    const char *str;
    ast_expr *expr;
    ast_expr_list args;
    ast_type type;
    ast_attrs attrs;
    ast_clause_list clauses;
    struct ast_scn_item *sitem;
}

%token <str> IDENT "identifier" NUMBER "number" DURATION "duration"
%token SEP "end of line"
%token MODULE "module" TICK "tick" CIRCUIT "circuit"
%token INPUT "input" OUTPUT "output" PARAM "param" LET "let"
%token REAL "real" BOOL "bool"
%token IF "if" THEN "then" ELSE "else"
%token AND "and" OR "or" NOT "not" TRUE "true" FALSE "false"
%token LE "<=" GE ">=" EQEQ "==" NE "!="
%token IMPORT "import" CONST "const" STATE "state" NEXT "next" VEC "vec"
%token DURTYPE "'duration'" IN "in" LEARNED "learned"
%token HEURISTIC "heuristic" ATTENTION "attention" GATE "gate" WHEN "when"
%token REFLEX "reflex" FOR "for" REFRACTORY "refractory" STRENGTH "strength"
%token PREDICTOR "predictor" REWARD "reward"
%token SCENARIO "scenario" EXPECT "expect" AT "at" DURING "during" EVERY "every"
%token SEED "seed" PLOT "plot" VARIANT "variant" DOTDOT ".."

%type <str> modname
%type <expr> expr arg
%type <args> args arglist
%type <type> type
%type <attrs> attrs reflexopts
%type <clauses> clauses clauselist
%type <sitem> timing

%nonassoc DOTDOT
%precedence ELSE
%left OR
%left AND
%precedence NOT
%nonassoc '<' LE '>' GE EQEQ NE
%left '+' '-'
%left '*' '/'
%precedence UMINUS
%precedence '['

%%

file
    : decls
    ;

decls
    : %empty
    | decls SEP
    | decls decl SEP
    | decls error SEP                           { yyerrok; }
    ;

decl
    : MODULE modname                            { ast_module_name(b, @2, $2); }
    | TICK expr                                 { ast_module_tick(b, @$, $2); }
    | IMPORT modname                            { ast_import_add(b, @2, $2); }
    | constdecl
    | circuit
    | scenario
    ;

constdecl
    : CONST IDENT '=' expr                      { ast_item_add(b, IT_CONST, @$, @2, $2, TY_ERROR, @2, $4); }
    | CONST IDENT ':' type '=' expr             { ast_item_add(b, IT_CONST, @$, @2, $2, $4, @4, $6); }
    ;

modname
    : IDENT
    | modname '.' IDENT                         { $$ = ast_dotted(b, $1, $3); }
    ;

circuit
    : CIRCUIT IDENT '{'                         { ast_circuit_begin(b, @2, $2); }
      body '}'                                  { ast_circuit_end(b, @6); }
    ;

body
    : items
    | items item
    | items error
    ;

items
    : %empty
    | items SEP
    | items item SEP
    | items error SEP                           { yyerrok; }
    ;

scenario
    : SCENARIO IDENT FOR expr '{'               { ast_scenario_begin(b, @2, $2, $4); }
      sbody '}'                                 { ast_scenario_end(b); }
    ;

sbody
    : sitems
    | sitems sitem
    | sitems error
    ;

sitems
    : %empty
    | sitems SEP
    | sitems sitem SEP
    | sitems error SEP                          { yyerrok; }
    ;

sitem
    : CIRCUIT IDENT                             { ast_scn_circuit(b, @$, @2, $2); }
    | SEED expr                                 { ast_scn_seed(b, @$, $2); }
    | PARAM IDENT '=' expr                      { ast_scn_param(b, @$, @2, $2, $4); }
    | PARAM IDENT '.' IDENT '=' expr            { ast_scn_param(b, @$, ast_span(@2, @4), ast_dotted(b, $2, $4), $6); }
    | IDENT '=' expr                            { ast_scn_set(b, @$, @1, $1, NULL, $3); }
    | IDENT '[' expr ']' '=' expr               { ast_scn_set(b, @$, @1, $1, $3, $6); }
    | timing '{'                                { ast_scn_block_begin(b, $1); }
      sbody '}'                                 { ast_scn_block_end(b, $1, @5); }
    | VARIANT IDENT '{'                         { ast_scn_variant_begin(b, @$, @2, $2); }
      sbody '}'                                 { ast_scn_variant_end(b, @6); }
    | EXPECT expr                               { ast_scn_expect(b, @$, $2); }
    | PLOT arglist                              { ast_scn_plot(b, @$, $2); }
    ;

timing
    : AT expr                                   { $$ = ast_scn_timing(b, @$, 'a', $2, NULL, NULL); }
    | AT expr FOR expr                          { $$ = ast_scn_timing(b, @$, 'a', $2, $4, NULL); }
    | DURING expr                               { $$ = ast_scn_timing(b, @$, 'd', NULL, NULL, $2); }
    | EVERY expr                                { $$ = ast_scn_timing(b, @$, 'e', $2, NULL, NULL); }
    | EVERY expr FOR expr                       { $$ = ast_scn_timing(b, @$, 'e', $2, $4, NULL); }
    | EVERY expr DURING expr                    { $$ = ast_scn_timing(b, @$, 'e', $2, NULL, $4); }
    | EVERY expr FOR expr DURING expr           { $$ = ast_scn_timing(b, @$, 'e', $2, $4, $6); }
    | AT error                                  { $$ = ast_scn_timing(b, @$, 'a', NULL, NULL, NULL); }
    | DURING error                              { $$ = ast_scn_timing(b, @$, 'd', NULL, NULL, NULL); }
    | EVERY error                               { $$ = ast_scn_timing(b, @$, 'e', NULL, NULL, NULL); }
    ;

item
    : INPUT IDENT ':' type attrs                { ast_decl(b, IT_INPUT, @$, @2, $2, $4, @4, $5, NULL); }
    | OUTPUT IDENT ':' type                     { ast_item_add(b, IT_OUTPUT, @$, @2, $2, $4, @4, NULL); }
    | OUTPUT IDENT ':' type '=' expr            { ast_item_add(b, IT_OUTPUT, @$, @2, $2, $4, @4, $6); }
    | PARAM IDENT ':' type attrs                { ast_decl(b, IT_PARAM, @$, @2, $2, $4, @4, $5, NULL); }
    | PARAM IDENT ':' type attrs '=' expr       { ast_decl(b, IT_PARAM, @$, @2, $2, $4, @4, $5, $7); }
    | LET IDENT '=' expr                        { ast_item_add(b, IT_LET, @$, @2, $2, TY_ERROR, @2, $4); }
    | LET IDENT ':' type '=' expr               { ast_item_add(b, IT_LET, @$, @2, $2, $4, @4, $6); }
    | constdecl
    | STATE IDENT ':' type '=' expr             { ast_item_add(b, IT_STATE, @$, @2, $2, $4, @4, $6); }
    | STATE IDENT ':' type                      { ast_item_add(b, IT_STATE, @$, @2, $2, $4, @4, NULL); }
    | NEXT IDENT '=' expr                       { ast_item_add(b, IT_NEXT, @$, @2, $2, TY_ERROR, @2, $4); }
    | HEURISTIC IDENT '=' expr                  { ast_item_add(b, IT_HEURISTIC, @$, @2, $2, TY_ERROR, @2, $4); }
    | HEURISTIC IDENT ':' type '=' expr         { ast_item_add(b, IT_HEURISTIC, @$, @2, $2, $4, @4, $6); }
    | ATTENTION IDENT '=' expr                  { ast_item_add(b, IT_ATTENTION, @$, @2, $2, TY_ERROR, @2, $4); }
    | ATTENTION IDENT ':' type '=' expr         { ast_item_add(b, IT_ATTENTION, @$, @2, $2, $4, @4, $6); }
    | REWARD IDENT '=' expr                     { ast_item_add(b, IT_REWARD, @$, @2, $2, TY_REAL, @2, $4); }
    | GATE IDENT '=' expr WHEN expr             { ast_gate(b, @$, @2, $2, $4, $6, NULL); }
    | GATE IDENT '=' expr WHEN expr ELSE expr   { ast_gate(b, @$, @2, $2, $4, $6, $8); }
    | REFLEX IDENT '=' expr FOR expr reflexopts { ast_reflex(b, @$, @2, $2, $4, $6, $7); }
    | PREDICTOR IDENT '{' clauses '}'           { ast_predictor(b, @$, @2, $2, $4); }
    | IDENT '=' expr                            { ast_item_add(b, IT_DEF, @$, @1, $1, TY_ERROR, @1, $3); }
    ;

attrs
    : %empty                                    { $$ = ast_attrs_none(); }
    | attrs IN '[' expr ',' expr ']'            { $$ = ast_attrs_range(b, $1, ast_span(@2, @7), $4, $6); }
    | attrs LEARNED                             { $$ = ast_attrs_learned(b, $1, @2); }
    ;

reflexopts
    : %empty                                    { $$ = ast_attrs_none(); }
    | reflexopts REFRACTORY expr                { $$ = ast_attrs_refractory(b, $1, @2, $3); }
    | reflexopts STRENGTH expr                  { $$ = ast_attrs_strength(b, $1, @2, $3); }
    ;

clauses
    : clauselist
    | clauselist IDENT expr                     { $$ = ast_clauses_add(b, $1, @$, $2, $3); }
    | clauselist error                          { $$ = ast_clauses_broken($1); }
    ;

clauselist
    : %empty                                    { $$ = ast_clauses_empty(); }
    | clauselist SEP
    | clauselist IDENT expr SEP                 { $$ = ast_clauses_add(b, $1, ast_span(@2, @3), $2, $3); }
    | clauselist error SEP                      { $$ = ast_clauses_broken($1); yyerrok; }
    ;

type
    : REAL                                      { $$ = TY_REAL; }
    | BOOL                                      { $$ = TY_BOOL; }
    | DURTYPE                                   { $$ = TY_DUR; }
    | VEC '[' NUMBER ']'                        { $$ = ast_vec_type(b, @3, $3); }
    ;

expr
    : NUMBER                                    { $$ = ast_num(b, @$, $1); }
    | DURATION                                  { $$ = ast_dur(b, @$, $1); }
    | TRUE                                      { $$ = ast_bool(b, @$, 1); }
    | FALSE                                     { $$ = ast_bool(b, @$, 0); }
    | IDENT                                     { $$ = ast_name(b, @$, $1); }
    | IDENT '(' args ')'                        { $$ = ast_call(b, @$, $1, $3); }
    | REAL '(' expr ')'                         { $$ = ast_call1(b, @$, "real", $3); }
    | IDENT '.' IDENT                           { $$ = ast_field(b, @$, $1, $3); }
    | IDENT '.' IDENT '.' IDENT                 { $$ = ast_field(b, @$, $1, ast_dotted(b, $3, $5)); }
    | IDENT '.' IDENT '.' STRENGTH              { $$ = ast_field(b, @$, $1, ast_dotted(b, $3, "strength")); }
    | IDENT '.' IDENT '.' REWARD                { $$ = ast_field(b, @$, $1, ast_dotted(b, $3, "reward")); }
    | IDENT '.' IDENT '(' args ')'              { $$ = ast_measure(b, @$, $1, $3, $5); }
    | IDENT '.' AT '(' args ')'                 { $$ = ast_measure(b, @$, $1, "at", $5); }
    | AT '(' args ')'                           { $$ = ast_call(b, @$, "at", $3); }
    | IDENT '.' STRENGTH                        { $$ = ast_field(b, @$, $1, "strength"); }
    | IDENT '.' REWARD                          { $$ = ast_field(b, @$, $1, "reward"); }
    | REWARD                                    { $$ = ast_name(b, @$, "reward"); }
    | '[' arglist ']'                           { $$ = ast_vec(b, @$, $2); }
    | expr '[' expr ']'                         { $$ = ast_index(b, @$, $1, $3); }
    | '(' expr ')'                              { $$ = $2; }
    | '-' expr %prec UMINUS                     { $$ = ast_unary(b, @$, OP_NEG, $2); }
    | NOT expr                                  { $$ = ast_unary(b, @$, OP_NOT, $2); }
    | expr '+' expr                             { $$ = ast_binary(b, @$, OP_ADD, $1, $3); }
    | expr '-' expr                             { $$ = ast_binary(b, @$, OP_SUB, $1, $3); }
    | expr '*' expr                             { $$ = ast_binary(b, @$, OP_MUL, $1, $3); }
    | expr '/' expr                             { $$ = ast_binary(b, @$, OP_DIV, $1, $3); }
    | expr '<' expr                             { $$ = ast_binary(b, @$, OP_LT, $1, $3); }
    | expr LE expr                              { $$ = ast_binary(b, @$, OP_LE, $1, $3); }
    | expr '>' expr                             { $$ = ast_binary(b, @$, OP_GT, $1, $3); }
    | expr GE expr                              { $$ = ast_binary(b, @$, OP_GE, $1, $3); }
    | expr EQEQ expr                            { $$ = ast_binary(b, @$, OP_EQ, $1, $3); }
    | expr NE expr                              { $$ = ast_binary(b, @$, OP_NE, $1, $3); }
    | expr AND expr                             { $$ = ast_binary(b, @$, OP_AND, $1, $3); }
    | expr OR expr                              { $$ = ast_binary(b, @$, OP_OR, $1, $3); }
    | IF expr THEN expr ELSE expr               { $$ = ast_if(b, @$, $2, $4, $6); }
    | expr DOTDOT expr                          { $$ = ast_binary(b, @$, OP_RANGE, $1, $3); }
    ;

args
    : %empty                                    { $$ = ast_args_empty(); }
    | arglist
    ;

arglist
    : arg                                       { $$ = ast_args_add(b, ast_args_empty(), $1); }
    | arglist ',' arg                           { $$ = ast_args_add(b, $1, $3); }
    ;

arg
    : expr
    | IDENT '=' expr                            { $$ = ast_named(b, @$, $1, $3); }
    ;

%%

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ast_builder *b)
{
    (void)scanner;
    enum { MAX_EXPECTED = 40 };
    yysymbol_kind_t expected[MAX_EXPECTED];
    int n = yypcontext_expected_tokens(ctx, expected, MAX_EXPECTED);
    const char *names[MAX_EXPECTED];
    for (int i = 0; i < n && i < MAX_EXPECTED; i++)
        names[i] = yysymbol_name(expected[i]);
    parse_syntax_error(b, *yypcontext_location(ctx), yysymbol_name(yypcontext_token(ctx)),
                       names, n < 0 ? 0 : n);
    return 0;
}

void dyerror(DYLTYPE *lloc, yyscan_t scanner, ast_builder *b, const char *msg)
{
    (void)scanner;
    parse_error(b, *lloc, msg);
}
