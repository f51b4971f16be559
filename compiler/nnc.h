/*
 * nnc.h - the one internal header of the nnc compiler.
 *
 * Sectioned by the file that owns each declaration. Everything not declared
 * here is static to its file.
 */
#ifndef NNC_H
#define NNC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nnrt.h"   /* the enums the compiler shares with the runtime */

#define NNC_VERSION "0.1.0"
#define MAXRANK 4
/* How deep an expression may nest: the parser's stack (parser.y) and
 * sema's recursion over operands, counting the bodies of inlined defs
 * (sema.c), are bounded by it; docs/language.md. */
#define NN_MAX_NESTING 1000
/* A seed is an integer a double holds exactly: 0 .. 2^53. */
#define NNC_MAX_SEED 9007199254740992L

/* ------------------------------------------------------------------ */
/* arena.c: bump allocation, freed whole */

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
	ArenaBlock *head;
} Arena;

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *arena_alloc(Arena *a, size_t n); /* zeroed */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

/* ------------------------------------------------------------------ */
/* diag.c: diagnostics */

/* A source span: first character at (line, col), last at (end_line,
 * end_col - 1). Lines and columns count from 1. */
typedef struct Loc {
	const char *file;
	int line, col;
	int end_line, end_col;
} Loc;

typedef struct Diag {
	int nerrors;
	int limit;          /* give up after this many errors (20) */
	FILE *out;          /* stderr, or a memory stream in tests */
	struct DiagSource *sources;
} Diag;

void diag_init(Diag *d, FILE *out);
void diag_add_source(Diag *d, const char *file, const char *text);
void diag_error(Diag *d, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_note(Diag *d, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_plain(Diag *d, const char *fmt, ...) /* "nnc: error: ..." */
	__attribute__((format(printf, 2, 3)));
void diag_free(Diag *d);
/* Internal compiler error: names the compiler's own file and line. */
#define ice(...) ice_at(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void ice_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* ast.c: the syntax tree */

typedef enum {
	A_NUM,    /* num */
	A_STR,    /* str */
	A_NAME,   /* str */
	A_CALL,   /* str(args..., kw...) */
	A_LIST,   /* [args...] */
	A_BINOP,  /* lhs op rhs; op is one of the AstOp below */
	A_UNOP,   /* op lhs (only AOP_NEG) */
	A_SLICE,  /* lhs : rhs (column ranges in csv()) */
} AstKind;

typedef enum {
	AOP_ADD, AOP_SUB, AOP_MUL, AOP_DIV, AOP_POW, AOP_MATMUL,
	AOP_LT, AOP_LE, AOP_GT, AOP_GE, AOP_EQ, AOP_NE,
	AOP_NEG,
	AOP_THEN, /* schedule A then B */
} AstOp;

typedef struct Ast Ast;
typedef struct Kwarg {
	const char *name;
	Loc loc; /* of the name */
	Ast *value;
} Kwarg;

struct Ast {
	AstKind kind;
	Loc loc;
	double num;
	const char *str;
	AstOp op;
	Ast *lhs, *rhs;
	Ast **args;
	int nargs;
	Kwarg *kw;
	int nkw;
};

typedef enum {
	S_MODEL, S_INPUT, S_TARGET, S_PARAM, S_DEF, S_LET, S_OUTPUT, S_LOSS,
	S_OPTIMIZER, S_SCHEDULE, S_TRAIN,
} StmtKind;

typedef struct Stmt Stmt;
struct Stmt {
	StmtKind kind;
	Loc loc;             /* the whole statement's first line */
	const char *name;    /* model, input, target, param, def, let, output */
	Loc name_loc;
	Ast **dims;          /* input/target/param: [d1, d2, ...] */
	int ndims;
	bool has_dims;
	Ast *cls;            /* target NAME : class(K): the call class(K) */
	const char **params; /* def parameters */
	Loc *param_locs;
	int nparams;
	Ast *value;          /* param init, def body, let/output/loss value,
	                        optimizer call, schedule expression */
	Kwarg *keys;         /* train { key = value } */
	int nkeys;
	const char *text;    /* the statement's source line, for comments */
	Stmt *next;
};

typedef struct Program {
	const char *file;
	Stmt *stmts;
} Program;

Ast *ast_num(Arena *a, Loc loc, double v);
Ast *ast_str(Arena *a, Loc loc, const char *s);
Ast *ast_name(Arena *a, Loc loc, const char *s);
Ast *ast_binop(Arena *a, Loc loc, AstOp op, Ast *lhs, Ast *rhs);
Ast *ast_unop(Arena *a, Loc loc, AstOp op, Ast *x);
Ast *ast_slice(Arena *a, Loc loc, Ast *lo, Ast *hi);
Ast *ast_call(Arena *a, Loc loc, const char *name, Ast **args, int nargs,
	      Kwarg *kw, int nkw);
Ast *ast_list(Arena *a, Loc loc, Ast **elems, int n);
Stmt *ast_stmt(Arena *a, StmtKind kind, Loc loc);
const char *ast_op_name(AstOp op); /* "+", "@", "<=", "then" ... */
void ast_print(FILE *f, const Ast *e); /* s-expression, for tests */
void ast_print_program(FILE *f, const Program *p);

/* ------------------------------------------------------------------ */
/* parse (grammar/parser.y + grammar/lexer.l) */

/* Parses a whole file. Syntax errors go to d; returns NULL only when the
 * file cannot be read or holds a NUL byte. The returned program may be partial if
 * d->nerrors > 0. */
Program *parse_file(const char *path, Arena *a, Diag *d);
/* text[0 .. len) followed by a NUL; a NUL inside it is an error */
Program *parse_buffer(const char *name, const char *text, size_t len,
		      Arena *a, Diag *d);
Program *parse_string(const char *name, const char *text, Arena *a,
		      Diag *d);

/* ------------------------------------------------------------------ */
/* shape.c: static shapes */

/* A value's shape. `batched` values carry an implicit leading batch
 * dimension B (every per-sample value does); parameters and constants do
 * not. dim[] holds the per-sample dimensions. */
typedef struct Shape {
	int rank;
	int dim[MAXRANK];
	bool batched;
} Shape;

Shape shape_scalar(bool batched);
Shape shape_make(bool batched, int rank, const int *dims);
long shape_numel(Shape s);       /* per-sample element count */
bool shape_eq(Shape a, Shape b); /* including batched */
/* numpy broadcasting of the per-sample dims, right-aligned; the batch
 * dimension is present if either side has it. */
bool shape_broadcast(Shape a, Shape b, Shape *out);
/* a broadcasts to b (b is what a would be broadcast to) */
bool shape_broadcasts_to(Shape a, Shape b);
/* "[B, 4, 3]" or "[4, 3]"; writes into buf */
char *shape_str(Shape s, char *buf, size_t n);
/* "[4, 3]": per-sample only, how the user writes it */
char *shape_user_str(Shape s, char *buf, size_t n);

/* ------------------------------------------------------------------ */
/* ir.c: the tensor IR */

typedef enum {
#define OP(id, ...) OP_##id,
#include "ops.def"
	OP_COUNT
} OpKind;

/* Attribute families (ops.def): each family is a struct, Attr_<member>,
 * and a node's attributes are the member of the union Attr its op's
 * family names, e.g. n->attr.matmul.ca. The op is the union's tag. */
typedef enum {
	AT_NONE,
#define ATTR(family, ...) AT_##family,
#include "ops.def"
	AT_COUNT
} AttrFamily;

#define F(type, field, shown) type field;
#define ATTR(family, member, fields) typedef struct { fields } Attr_##member;
#include "ops.def"
#undef F

typedef union Attr {
#define ATTR(family, member, fields) Attr_##member member;
#include "ops.def"
} Attr;

/* How the emitter and the passes treat an op. */
typedef enum {
	OK_LEAF,        /* input, param, const, batch size: no computation */
	OK_ELEMWISE,    /* out[i] = f(in[bcast(i)]...): fusable */
	OK_KERNEL,      /* its own loop nest / library call */
	OK_VIEW,        /* reshape: aliases its input */
} OpClass;

typedef struct Node Node;
typedef struct Graph Graph;
typedef struct Kernel Kernel;
typedef struct Emitter Emitter;

struct Node {
	int id;          /* dense, in creation order; renumbered by printing */
	OpKind op;
	int nin;
	Node **in;       /* nin inputs, allocated in the graph's arena */
	Shape shape;
	Attr attr;       /* of the op's family (ops.def); zero for AT_NONE */
	const char *name;/* INPUT / PARAM name */
	Loc loc;         /* the .nn construct this came from */
	const char *origin; /* source text of that construct's statement */
	bool dead;
	bool backward;   /* made by autodiff */
	/* set by analyses */
	int nuses;
	int group;       /* fuse.c: kernel group, -1 = none */
	bool keep;       /* must be materialized (used outside its group) */
	void *aux;       /* scratch for passes; reset before use */
};

typedef struct Root {
	const char *name; /* "loss", "out:probs", "grad:h.W" */
	Node *node;
	int kind;         /* ROOT_* */
	int index;        /* output index, tensor index */
} Root;

/* ROOT_BUFFER: the new value of a buffer tensor (a running statistic),
 * written after a training step when NnrtStep.update_buffers is set. */
enum { ROOT_LOSS, ROOT_SAMPLE_LOSS, ROOT_OUTPUT, ROOT_GRAD, ROOT_BUFFER };

struct Graph {
	Arena arena;
	Node **nodes; /* topological order */
	int nnodes, cap;
	Root *roots;
	int nroots, rootcap;
	int next_id;
	/* context for new nodes: inherited location */
	Loc cur_loc;
	const char *cur_origin;
};

typedef struct OpInfo {
	const char *name;
	int nin;          /* -1: any number, at least one (variadic) */
	OpClass cls;
	AttrFamily attrs; /* which member of Node.attr is set */
	/* the value depends on more than the inputs and attributes (a random
	 * mask): never merged, folded, moved or duplicated by a pass */
	bool impure;
	/* shape rule: computes n->shape from inputs and attrs; returns false
	 * (and fills msg) when the operands do not fit */
	bool (*shape)(Node *n, char *msg, size_t msgsz);
	/* derivative rule: given dy (gradient of the output), returns the
	 * gradient contributions for input i (NULL = none / not
	 * differentiable) */
	Node *(*grad)(Graph *g, Node *n, Node *dy, int i);
	/* an elementwise op's math (ops.def) as C text over its operands
	 * X(0), X(1), ... in double-precision names, else NULL */
	const char *math;
	/* the body of a kernel op's C function (emit_kernel.c), else NULL */
	void (*emit)(Emitter *E, Kernel *k);
	/* elements of working memory a kernel op needs for itself with
	 * batches of up to `batch` rows (plan.c reserves them, the kernel
	 * gets them as s0), else NULL */
	long (*scratch)(const Node *n, int batch);
} OpInfo;

extern const OpInfo op_info[OP_COUNT];
/* ops.c: an elementwise op's value on constants, in double: the same
 * math as OpInfo.math, compiled */
double op_eval(OpKind op, const double *v);
/* ops.c: a sliding window's output size, floor mode; 0 if it does not fit */
long ops_window_out(long n, int k, int stride, int pad);

Graph *ir_new(void);
void ir_free(Graph *g);
/* whether op takes nin inputs (ops.def's count; -1: one or more) */
bool ir_nin_ok(OpKind op, int nin);
/* Node constructors run the op's shape rule and ice() on failure: user
 * errors are caught by sema before lowering. */
Node *ir_node(Graph *g, OpKind op, int nin, Node **in); /* copies in[] */
/* A node of like's op and attributes on other inputs; its shape is what
 * the op's rule computes, or like's where the rule only checks it. */
Node *ir_like(Graph *g, const Node *like, int nin, Node **in);
Node *ir_op1(Graph *g, OpKind op, Node *a);
Node *ir_op2(Graph *g, OpKind op, Node *a, Node *b);
Node *ir_op3(Graph *g, OpKind op, Node *a, Node *b, Node *c);
Node *ir_const(Graph *g, double v);
/* which: 0 an input (attr.input.index: its place in Model.inputs, 0
 * here), 1 the target */
Node *ir_input(Graph *g, const char *name, int which, Shape s);
Node *ir_param(Graph *g, const char *name, int tensor, Shape s);
Node *ir_batchsize(Graph *g);
Node *ir_matmul(Graph *g, Node *a, Node *b, bool ta, bool tb, int ca,
		int cb, Shape out);
Node *ir_sum_to(Graph *g, Node *x, Shape to);
Node *ir_broadcast(Graph *g, Node *x, Shape to);
Node *ir_reshape(Graph *g, Node *x, Shape to);
Node *ir_onehot(Graph *g, Node *y, int k);
/* Inverted dropout's mask of shape s: 0 with probability p, else
 * 1 / (1 - p), drawn from (seed, step, stream, element). Impure. */
Node *ir_dropmask(Graph *g, Shape s, double p, int stream);
/* A node whose shape its constructor sets (the rule only checks it): the
 * gradients of convolution and pooling. */
Node *ir_shaped(Graph *g, OpKind op, int nin, Node **in, Attr at, Shape s);
Node *ir_conv2d(Graph *g, Node *x, Node *w, int k, int stride, int pad);
/* per sample [m, n] = op(a) [m, k] @ op(b) [k, n]; out is batched */
Node *ir_bmm(Graph *g, Node *a, Node *b, bool ta, bool tb, int m, int k,
	     int n, Shape out);
Node *ir_pool(Graph *g, OpKind op, Node *x, int size, int stride);
void ir_add_root(Graph *g, int kind, const char *name, int index, Node *n);
/* Redirects every use of `from` (and roots) to `to`. */
void ir_replace(Graph *g, Node *from, Node *to);
/* Drops dead nodes from g->nodes and recounts uses. */
void ir_compact(Graph *g);
void ir_count_uses(Graph *g);
bool ir_is_const(const Node *n, double v);
const OpInfo *ir_info(const Node *n);

/* irprint.c */
void ir_print(FILE *f, Graph *g);
void ir_print_attrs(FILE *f, const Node *n); /* " h.W", " ca=4 cb=16" */
/* dot.c: the graph as Graphviz (--emit=dot): forward and backward nodes,
 * fused groups boxed, the roots */
void dot_print(FILE *f, Graph *g, const char *title);
/* irverify.c: topological order, input counts, shapes; ice() on failure */
void ir_verify(Graph *g);
/* irsort.c: stable topological sort of g->nodes (unchanged if already
 * in order; appended nodes move up to just before their first user) */
void ir_toposort(Graph *g);

/* ------------------------------------------------------------------ */
/* Matmul dimension helpers (ops.c). A matmul's operands are viewed as
 * row-major matrices with `ca` / `cb` columns; rows may include the batch
 * dimension. Dim counts are `c` times B if `b`. */
typedef struct Dim {
	long c;
	bool b;
} Dim;
void mm_dims(const Node *n, Dim *m, Dim *k, Dim *nn);

/* ------------------------------------------------------------------ */
/* model.c: what sema learns about the program, besides the IR */


typedef struct Tensor {
	const char *name;   /* "h.W", "W1" */
	Shape shape;        /* unbatched */
	NnrtInit init;      /* runtime/nnrt.h's list of initializers */
	double init_a, init_b;
	int fan_in, fan_out;
	bool trainable;
	bool is_weight;     /* in the `weights` collection */
	long offset;        /* in the flat parameter buffer */
	Loc loc;
} Tensor;

typedef struct Layer {     /* for `summary` */
	const char *name;      /* statement name */
	const char *kind;      /* "dense", "relu", ... */
	Shape shape;           /* output */
	long params;
	double flops;          /* per sample */
} Layer;

typedef struct Output {
	const char *name;
	Shape shape;
} Output;

/* optim.def: the optimizers */
typedef enum {
#define OPTIM(id, ...) OPT_##id,
#include "optim.def"
#undef OPTIM
	OPT_COUNT
} OptKind;

/* The checked optimizer statement: every optimizer's keys, each kept in
 * the field optim.def names (keys of the same name share one). */
typedef struct Optim {
	OptKind kind;
	double lr, momentum, dampening, weight_decay, eps;
	double beta1, beta2, rho, lr_decay, initial_accumulator_value;
	double momentum_decay;
	bool nesterov, amsgrad, centered;
	Loc loc;
} Optim;

/* One keyword argument of an optimizer (optim.def's KEY and FLAG). */
typedef struct OptimKey {
	const char *name;
	size_t offset;      /* of its double (or bool, if flag) in Optim */
	bool flag;          /* true or false, else a number */
	double lo, hi;      /* a number's range: lo <= v <= hi */
	bool hi_open;       /* ... v < hi */
	double dflt;        /* NAN: required */
} OptimKey;

typedef struct OptimInfo {
	const char *name;
	const OptimKey *keys;
	int nkeys;
} OptimInfo;

extern const OptimInfo optim_info[OPT_COUNT]; /* sema_optim.c */
/* The schedule statement, checked (sema_sched.c): a chain of pieces. */
typedef enum {
#define SCHED(id, name, ends, state, keys) SCHED_##id,
#include "sched.def"
#undef SCHED
	SCHED_COUNT
} SchedKind;

typedef enum {
	SEND_STEPS,   /* after its `steps`: it may be followed by `then` */
	SEND_RUN,     /* at the end of the configured run */
	SEND_NEVER,
} SchedEnd;

typedef enum {
	KEY_NUM,      /* a number */
	KEY_INT,      /* an integer */
	KEY_INTS,     /* a list of increasing integers: [30, 60] */
} KeyType;

/* One argument of a schedule. Its values lie in [lo, hi], ends
 * excluded when lo_open / hi_open (for KEY_INTS: each element). */
typedef struct SchedKey {
	const char *name;
	KeyType type;
	double lo, hi;
	bool lo_open, hi_open;
	double def;          /* the default; NAN: none */
	const char *alt;     /* the key this one replaces ("steps" for
	                        "epochs"): only one of them may be given */
	bool positional;     /* may be the (only) positional argument */
} SchedKey;

typedef struct SchedInfo {
	const char *name;
	SchedEnd ends;
	int nstate;          /* doubles of sched[] it keeps */
	const SchedKey *keys;/* ended by a NULL name */
} SchedInfo;

extern const SchedInfo sched_info[SCHED_COUNT];

#define SCHED_MAXKEYS 4

/* One schedule of the chain: every key's value (its default when not
 * given), where it starts, and its slice of the state. */
typedef struct SchedPiece {
	SchedKind kind;
	Loc loc;
	double val[SCHED_MAXKEYS];   /* in the order of its keys */
	bool given[SCHED_MAXKEYS];
	const long *list;            /* a KEY_INTS key's values */
	int nlist;
	long start;          /* the step it starts at: the steps of the
	                        pieces before it, all of which end after
	                        their steps */
	int state;           /* its first double in sched[] */
} SchedPiece;

typedef struct Schedule {
	SchedPiece *pieces;  /* in the order they run; none: constant */
	int npieces;
	int nstate;          /* doubles of sched[] for the whole chain */
} Schedule;

/* A data source: csv(path, skip, x, y) or idx(images, labels, scale),
 * as the runtime's NnrtSource holds it. */
typedef struct DataSrc {
	NnrtSrcKind kind;
	const char *path;    /* csv: the file; idx: the images */
	int skip;
	int x_lo[NNRT_MAX_INPUTS], x_hi[NNRT_MAX_INPUTS]; /* by input */
	int y_lo, y_hi;
	const char *labels;  /* idx */
	double scale;        /* idx */
} DataSrc;

typedef struct TrainCfg {
	DataSrc data;
	DataSrc val;         /* validation = SOURCE */
	DataSrc test;        /* test = SOURCE */
	double validation;
	int batch, epochs;
	bool shuffle, drop_last;
	long seed;           /* 0 .. NNC_MAX_SEED */
	NnrtNorm normalize;
	NnrtNorm normalize_target; /* NONE or STANDARD */
	unsigned metrics;    /* NNRT_METRIC_BIT(...) bits */
	Loc metrics_loc, norm_target_loc; /* for sema_train_finish's errors */
	bool early_stop;
	NnrtMonitor es_monitor;
	int es_patience;
	double es_min_delta;
	bool es_restore_best;
	double clip_value;   /* 0 = off; applied by the update (emit_optim.c) */
	double clip_norm;    /* 0 = off */
	const char *checkpoint, *log;
} TrainCfg;

/* One input statement. A sample's row of x holds every input side by
 * side, in statement order: this one at [offset, offset + numel). */
typedef struct Input {
	const char *name;
	Shape shape;
	long offset;
} Input;

typedef struct Model {
	const char *name;
	const char *file;   /* as given on the command line */
	Input inputs[NNRT_MAX_INPUTS];
	int ninputs;
	long input_size;    /* floats of a row of x: every input's */
	Shape target;
	const char *target_name;
	int nclasses;       /* 0 = real-valued target */
	Tensor *tensors;
	int ntensors, tensorcap;
	long nparams;       /* every tensor: trainable, then buffers */
	long ntrainable;    /* the trainable prefix of the flat buffer */
	Layer *layers;
	int nlayers, layercap;
	Output *outputs;
	int noutputs;
	Optim optim;
	long ws_size;       /* plan.c: workspace elements, max over functions */
	Schedule sched;
	TrainCfg train;
	Loc train_loc;
	/* IR: forward graphs are built by lowering; grad by autodiff */
	Graph *train_g;   /* forward + batch-mean loss (+ gradients) */
	Graph *eval_g;    /* forward: per-sample loss and outputs */
	Graph *pred_g;    /* forward: outputs only */
	/* plan.c: kernels and memory of train, eval and pred, in that order */
	struct Plan *plans[3];
} Model;

/* ------------------------------------------------------------------ */
/* sema.c: names, def inlining, shapes, layer parameters */

/* The functions of the language: one line each in builtins.def, with
 * their checker (sema_call.c) and lowering (lower.c). */
typedef enum {
	B_NONE,
#define BUILTIN(id, name, req, params, check, lower, op) B_##id,
#include "builtins.def"
#undef BUILTIN
	B_COUNT
} BuiltinKind;

/* A checked expression: names resolved, defs inlined, builtin arguments
 * normalized to positions, every node with its shape. Named values are
 * shared, so this is a DAG. */
typedef enum {
	E_NUM, E_INPUT, E_TARGET, E_PARAM, E_BINOP, E_NEG, E_CALL,
} ExprKind;

enum { EXPR_INPUT = 1, EXPR_TARGET = 2 };

typedef struct Expr Expr;
struct Expr {
	ExprKind kind;
	Loc loc;
	Shape shape;
	const char *text;    /* the statement it came from, for comments */
	double num;          /* E_NUM */
	AstOp op;            /* E_BINOP */
	BuiltinKind fn;      /* E_CALL */
	Expr **arg;          /* operands: nargs of them */
	int nargs;
	int depends;         /* EXPR_INPUT | EXPR_TARGET: what it reads,
	                        set as it is built (sema_set_args) */
	double *opt;         /* E_CALL: numeric options by parameter index
	                        (builtins.def), e.g. dense's units in opt[1] */
	bool flag;           /* dense: bias; sum/mean: axis given */
	int tensor;          /* the first tensor a layer created (E_PARAM:
	                        its tensor), -1 = none */
	int ntensors;        /* tensors tensor .. tensor + ntensors - 1 */
	int stream;          /* dropout: its random stream, from 0 in
	                        program order (nnrt_rand_key) */
	int input;           /* E_INPUT: its index in Model.inputs */
	/* lowering memo, valid while memo_graph is the graph being built */
	Graph *memo_graph;
	Node *memo;
};

typedef struct Checked {
	Expr *loss;          /* per-sample scalar */
	Expr **outputs;      /* Model.noutputs of them */
} Checked;

/* Checks the program and fills the model; errors go to d. Returns NULL
 * when there were errors. */
Model *sema(Program *p, Arena *a, Diag *d, Checked *out);
/* Frees what sema() allocated outside the arena. */
void sema_free(Model *m, Checked *c);

/* The checker's state, shared by sema.c, sema_call.c and sema_train.c. */
typedef struct Sym Sym;
typedef struct Expansion Expansion;
typedef struct Sema {
	Arena *a;
	Diag *d;
	Model *m;
	Sym **syms;           /* global names: a hash table (sema.c) */
	int nsyms, symcap;
	int nstreams;         /* random layers so far (dropout streams) */
	Sym *env;             /* def parameters while inlining */
	Expansion *expanding; /* defs being inlined, innermost first */
	int depth;            /* sema_expr's recursion, <= 2 * NN_MAX_NESTING */
	Expr *target;
	/* the statement being checked: layers name their tensors after it */
	const char *stmt_name;
	const char *stmt_text;
	int stmt_first_tensor;
} Sema;

void sema_error(Sema *s, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
Expr *sema_expr(Sema *s, Ast *e);          /* a value expression */
Expr *sema_new_expr(Sema *s, ExprKind k, Loc loc);
void sema_set_args(Sema *s, Expr *e, int n, Expr **args); /* copies */
bool sema_const(Sema *s, Ast *e, double *v); /* a constant number */
bool sema_int(Sema *s, Ast *e, const char *what, int lo, int *v);
bool sema_long(Sema *s, Ast *e, const char *what, long lo, long hi,
	       long *v);
bool sema_bool(Sema *s, Ast *e, bool *v);
const char *sema_ident(const Ast *e);      /* a bare name, or NULL */
bool sema_is_class(Sema *s, const Expr *e);
int sema_new_tensor(Sema *s, const char *suffix, Shape sh, Loc loc);
bool sema_init_spec(Sema *s, Ast *e, Tensor *t);
void sema_add_layer(Sema *s, const char *kind, Shape sh, long params,
		    double flops);
Expr *sema_expr_arg(Sema *s, Ast *e, Ast *parent); /* parent: for init */
/* sema_call.c: builtins (builtins.def), their arguments matched to the
 * parameters, then checked by the builtin's checker */
#define MAXARGS 8
typedef struct Builtin Builtin;
typedef Expr *CheckFn(Sema *s, Ast *e, const Builtin *b, Ast **a,
		      Ast *parent);
struct Builtin {
	const char *name;
	BuiltinKind kind;
	int required;                 /* leading arguments with no default */
	const char *params[MAXARGS];  /* names, for keywords and messages */
	CheckFn *check;
};
Expr *sema_call(Sema *s, Ast *e, Ast *parent);
/* a value argument; a class label only where class_ok */
Expr *sema_value_arg(Sema *s, Ast *a, Ast *parent, bool class_ok);
/* a checked call of b with operands args[0..n) and an option per
 * parameter (Expr.opt) */
Expr *sema_new_call(Sema *s, Ast *e, const Builtin *b, Shape sh, int n,
		    Expr **args);
/* opt[i] = argument i, a constant in [lo, hi] ((lo, hi] if open), or
 * def when absent; false after an error */
bool sema_num_opt(Sema *s, Expr *r, Ast **a, int i, const char *name,
		  double def, double lo, bool open, double hi);
/* sema_layer.c: the checkers of the layers and regularizers */
CheckFn sema_dense, sema_conv2d, sema_pool, sema_flatten, sema_batchnorm,
	sema_layernorm, sema_dropout, sema_regularizer;
/* sema_optim.c: the optimizer statement */
void sema_optimizer(Sema *s, Stmt *st);
/* sema_train.c: the train block */
void sema_train(Sema *s, Stmt *st);
void sema_train_defaults(Model *m);
void sema_train_finish(Sema *s); /* cross-checks after all statements */
/* sema_sched.c: the schedule statement, into Model.sched */
void sema_schedule(Sema *s, Stmt *st);
/* a checked piece's value of `key` (its default when not given), and
 * whether the program gave it; ice() on a key the schedule has not */
double sema_sched_val(const SchedPiece *p, const char *key);
bool sema_sched_given(const SchedPiece *p, const char *key);
/* "step(epochs = 2, gamma = 0.5)": a piece as it can be written */
const char *sema_sched_str(Arena *a, const SchedPiece *p);

/* lower.c: the checked program to IR: fills m->train_g (forward and
 * batch-mean loss), m->eval_g and m->pred_g */
void lower(Model *m, Checked *c);

/* autodiff.c: reverse mode; adds ROOT_GRAD roots to g */
void autodiff(Graph *g, Model *m);

/* passes: each one file, one entry point */
void simplify(Graph *g);
void constfold(Graph *g);
void cse(Graph *g);
void dce(Graph *g);
void fuse(Graph *g);

/* emit.c: the C file */
typedef struct EmitOpts {
	int opt;            /* -O level */
	bool f64;
	const char *flags;  /* command line flags, for the header comment */
} EmitOpts;
void emit_c(FILE *f, Model *m, const EmitOpts *o);

#define KMAX 32
/* A kernel: one loop nest or library call of the generated code. */
struct Kernel {
	Node *members[64];  /* a fused group, or one kernel op */
	int nmembers;
	Node *ins[KMAX];    /* operands read from memory */
	int nins;
	Node *outs[KMAX];   /* results written to memory */
	int nouts;
	long scratch;       /* elements of working memory of its own (the
	                       op's scratch rule), 0 = none */
	long scratch_off;   /* plan.c: its workspace offset */
	const char *name;   /* set by emit_kernel_def */
};

struct Emitter {
	FILE *f;
	int indent;
	Model *m;
	const EmitOpts *o;
	const char *real;   /* "float" or "double" */
	const char *fs;     /* math function suffix: "f" or "" */
	Arena arena;
	/* kernels defined so far, for reuse of identical ones */
	char **kbody;
	const char **kname;
	int nk, kcap;
	int kcount;
};

/* plan.c: the last pass: kernels and memory of each entry function */
typedef struct Plan {
	Graph *g;
	int batch;            /* the largest batch: workspace sizes */
	bool f64;             /* inputs are copied to double (tx, ty) */
	bool gather;          /* several inputs: input k is copied out of
	                         the rows of x into x<k> */
	Kernel *k;            /* in call order */
	int nk;
	const char **cname;   /* by node id: the C pointer holding it */
	long *offset;         /* by node id: workspace offset, or -1 */
	int *grad_of;         /* by node id: tensor whose grad it is, or -1 */
	long ws;              /* workspace elements */
	Arena arena;          /* the names */
} Plan;
void plan(Model *m, bool f64);   /* fills m->plans and m->ws_size */
bool plan_copies(const Plan *P, const Node *x); /* INPUT x copied to ws */
void plan_free_all(Model *m);

void emit(Emitter *E, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *emit_lit(Emitter *E, double v);   /* a literal of type real */
const char *emit_basename(const char *path);
/* user text made safe inside a C comment (emit.c) */
const char *emit_comment_text(Emitter *E, const char *s);
/* emit_kernel.c: defines the kernel's static function (or reuses an
 * identical one) and sets k->name */
void emit_kernel_def(Emitter *E, Kernel *k);
/* the kernel ops' emitters, named in ops.def */
void emit_matmul(Emitter *E, Kernel *k);
void emit_bmm(Emitter *E, Kernel *k);
void emit_sum_to(Emitter *E, Kernel *k);
void emit_softmax(Emitter *E, Kernel *k);
void emit_logsoftmax(Emitter *E, Kernel *k);
void emit_onehot(Emitter *E, Kernel *k);
void emit_dropmask(Emitter *E, Kernel *k);
/* emit_conv.c: convolution and pooling kernels */
void emit_conv2d(Emitter *E, Kernel *k);
void emit_conv2d_dx(Emitter *E, Kernel *k);
void emit_conv2d_dw(Emitter *E, Kernel *k);
void emit_maxpool(Emitter *E, Kernel *k);
void emit_maxpool_dx(Emitter *E, Kernel *k);
void emit_avgpool(Emitter *E, Kernel *k);
void emit_avgpool_dx(Emitter *E, Kernel *k);
/* emit_optim.c: the update function, its state size and how `summary`
 * prints the optimizer */
void emit_update(Emitter *E);
long emit_state_size(const Model *m);
const char *emit_optim_str(Emitter *E);
/* emit_sched.c: the learning-rate functions lr_at and lr_epoch */
void emit_schedule(Emitter *E);
int emit_sched_size(const Model *m);       /* doubles of schedule state */
const char *emit_sched_str(Emitter *E);    /* for summary */

#endif
