/*
 * emit_optim.c - the optimizer update, generated for the model's flat
 * parameter layout: one loop over every trainable element, with the
 * hyperparameters as literals and the per-step scalars (bias corrections,
 * this step's rate) computed once before it, in double. The body reads
 * the learning rate and the step count (from 1) as `lr` and `step`: the
 * runtime passes them (--lr and schedules change the rate).
 *
 * The state is optim.def's slots, one after another, each one element per
 * trainable element, then the optimizer's scalars. The runtime zeroes it
 * and keeps it in checkpoints; what PyTorch starts at other than zero is
 * set on the first step (step == 1).
 *
 * Each emitter follows PyTorch's code (torch.optim, 1.13, the default
 * single-tensor path) with its formula written out above it: p is the
 * parameter, g its gradient, t the step, wd the weight decay.
 *
 * The loops must vectorize at the README's plain `cc -O2`, where gcc 12
 * vectorizes only loops that need no remainder loop and no runtime alias
 * check (its very-cheap cost model):
 *   - the buffers are restrict parameters of NAME_update_step (the
 *     runtime allocates each apart);
 *   - each loop runs over the first multiple of UNROLL elements, a
 *     second loop with the same body does the few left (emit_loops);
 *   - sqrtf is redeclared const (emit_sqrt_decl): the libm call that
 *     may set errno is otherwise a branch in the loop that keeps it
 *     scalar. Nothing reads errno, and a negative argument still gives
 *     NaN (the instruction's result), as in PyTorch;
 *   - a division by a per-step scalar is a multiplication by its
 *     reciprocal, computed once in double (a difference of one rounding
 *     from PyTorch's order, within the torch tier's tolerance); the
 *     divisions by a per-element denominator stay (divps vectorizes);
 *   - a branch on a per-step condition is two loops or a per-step
 *     scalar, not a test inside; the selects left (clip_value, amsgrad's
 *     max) are written in shapes gcc 12 if-converts under its default
 *     -ftrapping-math (each select on loaded or computed values, each
 *     element stored unconditionally).
 * tests/tools/vectorize.sh checks it with gcc's -fopt-info-vec and
 * clang's -Rpass=loop-vectorize.
 *
 * The update returns whether a gradient or an updated parameter it
 * touched is NaN or infinite: the runtime's check after every step,
 * folded into loops that read both anyway (a second pass over both
 * buffers cost 5% of a batch-64 MLP's step).
 */
#include "nnc.h"

#include <string.h>

/* Elements per block of the main loop: a multiple of every vector width
 * (4 to 16 floats), so the main loop needs no remainder. */
enum { UNROLL = 16 };

/* ---- state -------------------------------------------------------- */

/* optim.def's state of o: slots per trainable element, then scalars */
typedef struct StateShape {
	int slots, scalars;
} StateShape;

static StateShape state_shape(const Optim *o)
{
	switch (o->kind) {
#define OPTIM(id, name, slots, scalars, emit, ...) \
	case OPT_##id: \
		return (StateShape){(slots), (scalars)};
#include "optim.def"
#undef OPTIM
	case OPT_COUNT:
		break;
	}
	ice("optimizer kind %d", (int)o->kind);
}

long emit_state_size(const Model *m)
{
	StateShape st = state_shape(&m->optim);
	return st.slots * m->ntrainable + st.scalars;
}

/* Names the state: the slots, each ntrainable long, then the scalars (one
 * element each): `real *m = state; real *v = m + n; ...`. */
static void declare_state(Emitter *E, const char *const *names, int n)
{
	const Optim *o = &E->m->optim;
	StateShape st = state_shape(o);
	if (n != st.slots + st.scalars)
		ice("%s: %d state names for %d slots and %d scalars",
		    optim_info[o->kind].name, n, st.slots, st.scalars);
	long el = E->m->ntrainable;
	for (int k = 0; k < n; k++) {
		long off = k < st.slots ? k * el : st.slots * el + k - st.slots;
		if (k == 0)
			emit(E, "%s *%s = state;", E->real, names[0]);
		else
			emit(E, "%s *%s = %s + %ld;", E->real, names[k],
			     names[0], off);
	}
}

/* ---- clipping ----------------------------------------------------- */

/*
 * The train block's clip_value, then clip_norm (the contract's order), as
 * torch.nn.utils.clip_grad_value_ and clip_grad_norm_ do them before the
 * optimizer's step, but applied as the update reads each gradient (the
 * gradient buffer is left as the backward pass wrote it):
 *
 *   clip_value = v:  g = clamp(g, -v, v)                (NaN stays NaN)
 *   clip_norm = c:   n = sqrt(sum of g^2 over every trainable element)
 *                    g = g * min(c / (n + 1e-6), 1)
 *
 * The norm is one reduction loop before the update's loop, in double.
 */

/* g[i] clipped by value: a call of the helper emit_clip_helper writes */
static const char *clipped(Emitter *E, const char *x)
{
	if (E->m->train.clip_value > 0)
		return arena_printf(&E->arena, "%s_clip_value(%s)", E->m->name,
				    x);
	return x;
}

static void emit_clip_helper(Emitter *E)
{
	double cv = E->m->train.clip_value;
	if (cv <= 0)
		return;
	const char *r = E->real, *v = emit_lit(E, cv), *neg = emit_lit(E, -cv);
	emit(E, "/* clip_value: torch.nn.utils.clip_grad_value_ */");
	emit(E, "static %s %s_clip_value(%s g)", r, E->m->name, r);
	emit(E, "{");
	/* three selects on g, none on another's result: gcc 12 if-converts
	 * this shape at -O2 (not the nested one); a NaN stays NaN */
	emit(E, "\tconst %s lo = g < %s ? %s : g;", r, neg, neg);
	emit(E, "\tconst %s hi = g > %s ? %s : g;", r, v, v);
	emit(E, "\treturn g < 0 ? lo : hi;");
	emit(E, "}");
	emit(E, "%s", "");
}

/* clip_coef: torch.nn.utils.clip_grad_norm_'s clamped coefficient. The
 * sum of squares is kept in NORM_LANES partial sums, one per lane, added
 * at the end: the loop vectorizes without reassociating a sum (which
 * the compiler may not do at -O2), and stays in double. */
enum { NORM_LANES = 8 };

static void emit_clip_norm(Emitter *E)
{
	const char *r = E->real;
	long n = E->m->ntrainable, main = n / NORM_LANES * NORM_LANES;
	if (E->m->train.clip_norm <= 0)
		return;
	emit(E, "/* clip_norm: torch.nn.utils.clip_grad_norm_ */");
	emit(E, "double part[%d] = {0};", NORM_LANES);
	emit(E, "for (long i = 0; i < %ld; i += %d) {", main, NORM_LANES);
	emit(E, "	for (int j = 0; j < %d; j++) {", NORM_LANES);
	emit(E, "		const double c = %s;", clipped(E, "g[i + j]"));
	emit(E, "		part[j] += c * c;");
	emit(E, "	}");
	emit(E, "}");
	if (main < n) {
		emit(E, "for (long i = %ld; i < %ld; i++) {", main, n);
		emit(E, "	const double c = %s;", clipped(E, "g[i]"));
		emit(E, "	part[i - %ld] += c * c;", main);
		emit(E, "}");
	}
	emit(E, "double sumsq = 0;");
	emit(E, "for (int j = 0; j < %d; j++) {", NORM_LANES);
	emit(E, "	sumsq += part[j];");
	emit(E, "}");
	emit(E, "const double coef = %.17g / (sqrt(sumsq) + 1e-6);",
	     E->m->train.clip_norm);
	emit(E, "const %s clip_coef = (%s)(coef > 1 ? 1 : coef);", r, r);
}

/* ---- the loop ----------------------------------------------------- */

/* An unsigned integer of a real's size: bad, the OR of the bits of
 * every (g - g) + (p - p), nonzero when one is NaN. */
static const char *bits_type(const Emitter *E)
{
	return strcmp(E->real, "double") ? "unsigned int"
					 : "unsigned long long";
}

/* The body of an update loop: the statements for element i, given gi. */
typedef void Body(Emitter *E);

/* One loop over the trainable elements [lo, hi) (the prefix of the flat
 * buffer; the buffers after them are never touched) with gi, the
 * gradient the update reads: g[i] clipped, plus wd * p for an optimizer
 * that adds weight decay to the gradient (L2); then body. */
static void emit_loop(Emitter *E, long lo, long hi, double wd, Body *body)
{
	Model *m = E->m;
	const char *gi = clipped(E, "g[i]");
	if (m->train.clip_norm > 0)
		gi = arena_printf(&E->arena, "%s * clip_coef", gi);
	if (wd > 0)
		gi = arena_printf(&E->arena, "%s + %s * p[i]", gi,
				  emit_lit(E, wd));
	emit(E, "for (long i = %ld; i < %ld; i++) {", lo, hi);
	E->indent++;
	emit(E, "%s gi = %s;", E->real, gi);
	body(E);
	/* x - x is +0 for a finite x, NaN otherwise: the runtime's check
	 * of both buffers, in a loop bound by memory. The bits are OR-ed,
	 * not compared: gcc 12 at -O2 vectorizes no loop that narrows a
	 * double comparison to an int */
	emit(E, "const %s fin = (g[i] - g[i]) + (p[i] - p[i]);", E->real);
	emit(E, "%s u;", bits_type(E));
	emit(E, "memcpy(&u, &fin, sizeof u);");
	emit(E, "bad |= u;");
	E->indent--;
	emit(E, "}");
}

/* The update as a main loop over a multiple of UNROLL elements and a
 * loop over the rest, the same body in both (see the top). */
static void emit_loops(Emitter *E, double wd, Body *body)
{
	long n = E->m->ntrainable, main = n / UNROLL * UNROLL;
	if (main > 0)
		emit_loop(E, 0, main, wd, body);
	if (main < n)
		emit_loop(E, main, n, wd, body);
}

/* sqrt declared const for the update below it: see the top. */
static void emit_sqrt_decl(Emitter *E)
{
	emit(E, "/* no errno from the update's square roots: it vectorizes */");
	emit(E, "#if defined(__GNUC__)");
	emit(E, "%s sqrt%s(%s) __attribute__((const, nothrow));", E->real,
	     E->fs, E->real);
	emit(E, "#endif");
}

/* ---- the optimizers ----------------------------------------------- */

/* s = rho * s + (1 - rho) * x * x, or ... * x without the square */
static void moving_average(Emitter *E, const char *s, double rho,
			   const char *x, bool square)
{
	emit(E, "%s = %s * %s + %s * %s%s%s;", s, emit_lit(E, rho), s,
	     emit_lit(E, 1 - rho), x, square ? " * " : "", square ? x : "");
}

/*
 * sgd (torch.optim.SGD), mu = momentum:
 *   g += wd * p
 *   momentum: buf = t == 1 ? g : mu * buf + (1 - dampening) * g
 *             g = nesterov ? g + mu * buf : buf
 *   p -= lr * g
 * The first step's case is in two per-step scalars, keep and take: the
 * loop has no test.
 */
static void sgd_body(Emitter *E)
{
	const Optim *o = &E->m->optim;
	if (o->momentum > 0) {
		emit(E, "buf[i] = keep * buf[i] + take * gi;");
		if (o->nesterov)
			emit(E, "gi = gi + %s * buf[i];", emit_lit(E, o->momentum));
		else
			emit(E, "gi = buf[i];");
	}
	emit(E, "p[i] -= rate * gi;");
}

static void emit_sgd(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	emit(E, "const %s rate = (%s)lr;", r, r);
	if (o->momentum > 0) {
		declare_state(E, (const char *[]){"buf"}, 1);
		/* buf is 0 on the first step: 0 * buf + 1 * g is g exactly */
		emit(E, "const %s keep = step == 1 ? 0 : %s;", r,
		     emit_lit(E, o->momentum));
		emit(E, "const %s take = step == 1 ? 1 : %s;", r,
		     emit_lit(E, 1 - o->dampening));
	} else {
		emit(E, "(void)state;");
		emit(E, "(void)step;");
	}
	emit_loops(E, o->weight_decay, sgd_body);
}

/*
 * adam, adamw (torch.optim.Adam, AdamW):
 *   adamw:   p *= 1 - lr * wd             (decoupled weight decay)
 *   adam:    g += wd * p                  (L2)
 *   m = b1 * m + (1 - b1) * g ; v = b2 * v + (1 - b2) * g^2
 *   amsgrad: vmax = max(vmax, v), which takes v's place below
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * The division by sqrt(1 - b2^t) is a product with its reciprocal.
 */
static void adam_body(Emitter *E, bool decay)
{
	const Optim *o = &E->m->optim;
	if (decay)
		emit(E, "p[i] *= decay;");
	moving_average(E, "m[i]", o->beta1, "gi", false);
	moving_average(E, "v[i]", o->beta2, "gi", true);
	if (o->amsgrad) {
		/* a select and a store each element: it if-converts */
		emit(E, "const %s vi = v[i], vm = vmax[i];", E->real);
		emit(E, "const %s vmx = vi < vm ? vm : vi;", E->real);
		emit(E, "vmax[i] = vmx;");
	}
	emit(E, "p[i] -= step_size * m[i] / (sqrt%s(%s) * inv_bc2_sqrt + "
	     "%s);", E->fs, o->amsgrad ? "vmx" : "v[i]", emit_lit(E, o->eps));
}

static void adam_l2_body(Emitter *E)
{
	adam_body(E, false);
}

static void adamw_body(Emitter *E)
{
	adam_body(E, E->m->optim.weight_decay > 0);
}

static void adam_update(Emitter *E, bool decoupled)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	bool decay = decoupled && o->weight_decay > 0;
	declare_state(E, (const char *[]){"m", "v", "vmax"}, 2 + o->amsgrad);
	emit(E, "const double bc1 = 1 - pow(%.17g, (double)step);", o->beta1);
	emit(E, "const double bc2 = 1 - pow(%.17g, (double)step);", o->beta2);
	emit(E, "const %s step_size = (%s)(lr / bc1);", r, r);
	emit(E, "const %s inv_bc2_sqrt = (%s)(1 / sqrt(bc2));", r, r);
	if (decay)
		emit(E, "const %s decay = (%s)(1 - lr * %.17g);", r, r,
		     o->weight_decay);
	if (decoupled)
		emit_loops(E, 0, adamw_body);
	else
		emit_loops(E, o->weight_decay, adam_l2_body);
}

static void emit_adam(Emitter *E)
{
	adam_update(E, false);
}

static void emit_adamw(Emitter *E)
{
	adam_update(E, true);
}

/*
 * adagrad (torch.optim.Adagrad); sum starts at initial_accumulator_value:
 *   g += wd * p
 *   sum += g^2
 *   p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
 */
static void adagrad_body(Emitter *E)
{
	const Optim *o = &E->m->optim;
	if (o->initial_accumulator_value > 0)
		emit(E, "sum[i] = (sum[i] + start) + gi * gi;");
	else
		emit(E, "sum[i] += gi * gi;");
	emit(E, "p[i] -= clr * gi / (sqrt%s(sum[i]) + %s);", E->fs,
	     emit_lit(E, o->eps));
}

static void emit_adagrad(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	declare_state(E, (const char *[]){"sum"}, 1);
	emit(E, "const %s clr = (%s)(lr / (1 + (double)(step - 1) * %.17g));",
	     r, r, o->lr_decay);
	/* sum is 0 on the first step: 0 + start is start exactly */
	if (o->initial_accumulator_value > 0)
		emit(E, "const %s start = step == 1 ? %s : 0;", r,
		     emit_lit(E, o->initial_accumulator_value));
	emit_loops(E, o->weight_decay, adagrad_body);
}

/*
 * rmsprop (torch.optim.RMSprop, whose alpha is rho here), mu = momentum:
 *   g += wd * p
 *   sq = rho * sq + (1 - rho) * g^2
 *   centered: ga = rho * ga + (1 - rho) * g ; avg = sqrt(sq - ga^2) + eps
 *   else:     avg = sqrt(sq) + eps
 *   mu > 0:   buf = mu * buf + g / avg ; p -= lr * buf
 *   else:     p -= lr * g / avg
 */
static void rmsprop_body(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	moving_average(E, "square_avg[i]", o->rho, "gi", true);
	if (o->centered) {
		moving_average(E, "grad_avg[i]", o->rho, "gi", false);
		emit(E, "const %s avg = sqrt%s(square_avg[i] - grad_avg[i] * "
		     "grad_avg[i]) + %s;", r, E->fs, emit_lit(E, o->eps));
	} else {
		emit(E, "const %s avg = sqrt%s(square_avg[i]) + %s;", r, E->fs,
		     emit_lit(E, o->eps));
	}
	if (o->momentum > 0) {
		emit(E, "buf[i] = %s * buf[i] + gi / avg;",
		     emit_lit(E, o->momentum));
		emit(E, "p[i] -= rate * buf[i];");
	} else {
		emit(E, "p[i] -= rate * gi / avg;");
	}
}

static void emit_rmsprop(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	const char *names[3] = {"square_avg"};
	int n = 1;
	if (o->centered)
		names[n++] = "grad_avg";
	if (o->momentum > 0)
		names[n++] = "buf";
	declare_state(E, names, n);
	emit(E, "const %s rate = (%s)lr;", r, r);
	emit(E, "(void)step;");
	emit_loops(E, o->weight_decay, rmsprop_body);
}

/*
 * nadam (torch.optim.NAdam), psi = momentum_decay:
 *   g += wd * p
 *   mu_t = b1 * (1 - 0.5 * 0.96^(t * psi))
 *   mu_product = mu_1 * ... * mu_t
 *   m = b1 * m + (1 - b1) * g ; v = b2 * v + (1 - b2) * g^2
 *   denom = sqrt(v) / sqrt(1 - b2^t) + eps
 *   p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
 *   p -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom
 *
 * mu_product is PyTorch's per-optimizer state: here the state's one
 * scalar, after the slots, so checkpoints keep it; it is mu_1 on the
 * first step and kept in the real type (torch keeps it in a tensor of the
 * default dtype). This is the documented formula, which torch 1.13
 * computes with foreach=True and torch >= 2.0 always; 1.13's default
 * single-tensor code multiplies mu_t in twice in the last line
 * (mu_product * mu_t * mu_{t+1}), a bug PyTorch fixed in 2.0.
 */
static const char *nadam_mu(Emitter *E, const char *t)
{
	const Optim *o = &E->m->optim;
	return arena_printf(&E->arena, "%.17g * (1 - 0.5 * pow(0.96, "
			    "(double)%s * %.17g))", o->beta1, t,
			    o->momentum_decay);
}

static void nadam_body(Emitter *E)
{
	const Optim *o = &E->m->optim;
	moving_average(E, "m[i]", o->beta1, "gi", false);
	moving_average(E, "v[i]", o->beta2, "gi", true);
	emit(E, "const %s denom = sqrt%s(v[i]) * inv_bc2_sqrt + %s;", E->real,
	     E->fs, emit_lit(E, o->eps));
	emit(E, "p[i] -= c_grad * gi / denom;");
	emit(E, "p[i] -= c_avg * m[i] / denom;");
}

static void emit_nadam(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	declare_state(E, (const char *[]){"m", "v", "mu_product"}, 3);
	emit(E, "const double mu = %s;", nadam_mu(E, "step"));
	emit(E, "const double mu_next = %s;", nadam_mu(E, "(step + 1)"));
	emit(E, "*mu_product = (%s)((step == 1 ? 1.0 : (double)*mu_product) * "
	     "mu);", r);
	emit(E, "const double prod = *mu_product;");
	emit(E, "const %s c_grad = (%s)(lr * (1 - mu) / (1 - prod));", r, r);
	emit(E, "const %s c_avg = (%s)(lr * mu_next / (1 - prod * mu_next));",
	     r, r);
	emit(E, "const %s inv_bc2_sqrt = (%s)(1 / sqrt(1 - pow(%.17g, "
	     "(double)step)));", r, r, o->beta2);
	emit_loops(E, o->weight_decay, nadam_body);
}

/*
 * radam (torch.optim.RAdam):
 *   g += wd * p
 *   m = b1 * m + (1 - b1) * g ; v = b2 * v + (1 - b2) * g^2
 *   rho_inf = 2 / (1 - b2) - 1 ; rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
 *   rho_t > 5: rect = sqrt((rho_t - 4) (rho_t - 2) rho_inf /
 *                          ((rho_inf - 4) (rho_inf - 2) rho_t))
 *              p -= lr * rect / (1 - b1^t) * m * sqrt(1 - b2^t) /
 *                   (sqrt(v) + eps)
 *   else:      p -= lr / (1 - b1^t) * m
 * The two cases are two loops: the test is per step.
 */
static void radam_moments(Emitter *E)
{
	const Optim *o = &E->m->optim;
	moving_average(E, "m[i]", o->beta1, "gi", false);
	moving_average(E, "v[i]", o->beta2, "gi", true);
}

static void radam_rectified_body(Emitter *E)
{
	radam_moments(E);
	emit(E, "p[i] -= step_size * m[i] / (sqrt%s(v[i]) + %s);", E->fs,
	     emit_lit(E, E->m->optim.eps));
}

static void radam_plain_body(Emitter *E)
{
	radam_moments(E);
	emit(E, "p[i] -= step_size * m[i];");
}

static void emit_radam(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	declare_state(E, (const char *[]){"m", "v"}, 2);
	emit(E, "const double bc1 = 1 - pow(%.17g, (double)step);", o->beta1);
	emit(E, "const double bc2 = 1 - pow(%.17g, (double)step);", o->beta2);
	emit(E, "const double rho_inf = 2 / (1 - %.17g) - 1;", o->beta2);
	emit(E, "const double rho_t = rho_inf - 2 * (double)step * "
	     "pow(%.17g, (double)step) / bc2;", o->beta2);
	emit(E, "const int rectify = rho_t > 5;");
	emit(E, "const double rect = rectify ? sqrt((rho_t - 4) * "
	     "(rho_t - 2) * rho_inf /");
	emit(E, "\t((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0;");
	emit(E, "const %s step_size = (%s)(rectify ? "
	     "lr * rect * sqrt(bc2) / bc1 : lr / bc1);", r, r);
	emit(E, "if (rectify) {");
	E->indent++;
	emit_loops(E, o->weight_decay, radam_rectified_body);
	E->indent--;
	emit(E, "} else {");
	E->indent++;
	emit_loops(E, o->weight_decay, radam_plain_body);
	E->indent--;
	emit(E, "}");
}

/*
 * adadelta (torch.optim.Adadelta):
 *   g += wd * p
 *   sq = rho * sq + (1 - rho) * g^2
 *   delta = sqrt(acc + eps) / sqrt(sq + eps) * g
 *   acc = rho * acc + (1 - rho) * delta^2
 *   p -= lr * delta
 */
static void adadelta_body(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real, *eps = emit_lit(E, o->eps);
	moving_average(E, "square_avg[i]", o->rho, "gi", true);
	emit(E, "const %s delta = sqrt%s(acc_delta[i] + %s) / "
	     "sqrt%s(square_avg[i] + %s) * gi;", r, E->fs, eps, E->fs, eps);
	moving_average(E, "acc_delta[i]", o->rho, "delta", true);
	emit(E, "p[i] -= rate * delta;");
}

static void emit_adadelta(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const char *r = E->real;
	declare_state(E, (const char *[]){"square_avg", "acc_delta"}, 2);
	emit(E, "const %s rate = (%s)lr;", r, r);
	emit(E, "(void)step;");
	emit_loops(E, o->weight_decay, adadelta_body);
}

/* ---- the update function ------------------------------------------ */

/* The optimizer's part of the update: its row's emitter. */
static void emit_optimizer(Emitter *E)
{
	switch (E->m->optim.kind) {
#define OPTIM(id, name, slots, scalars, emit, ...) \
	case OPT_##id: \
		emit(E); \
		return;
#include "optim.def"
#undef OPTIM
	case OPT_COUNT:
		break;
	}
	ice("optimizer kind %d", (int)E->m->optim.kind);
}

/* The update's loops are in NAME_update_step, whose buffers are restrict
 * parameters: gcc 12 ignores restrict on the locals a function makes
 * from s's pointers (the loops would need a runtime alias check, which
 * -O2 does not do); it keeps it when it inlines the call. */
void emit_update(Emitter *E)
{
	Model *m = E->m;
	const char *r = E->real;
	emit_clip_helper(E);
	emit_sqrt_decl(E);
	emit(E, "static int %s_update_step(%s *restrict p, "
	     "const %s *restrict g,", m->name, r, r);
	emit(E, "		%s *restrict state, const double lr, const long step)",
	     r);
	emit(E, "{");
	E->indent++;
	emit(E, "%s bad = 0;", bits_type(E));
	emit_clip_norm(E);
	emit_optimizer(E);
	emit(E, "return bad != 0;");
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
	emit(E, "static int %s_update(const NnrtStep *s)", m->name);
	emit(E, "{");
	emit(E, "	return %s_update_step(s->params, s->grads, s->state, "
	     "s->lr, s->step);", m->name);
	emit(E, "}");
	emit(E, "%s", "");
}

/* The optimizer with every key, then the clipping the update does, as
 * `summary` prints them: "adam(lr = 0.001, ...), clip_norm = 1". */
const char *emit_optim_str(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const OptimInfo *info = &optim_info[o->kind];
	const char *s = arena_printf(&E->arena, "%s(", info->name);
	for (int i = 0; i < info->nkeys; i++) {
		const OptimKey *k = &info->keys[i];
		const char *field = (const char *)o + k->offset;
		bool on = k->flag && *(const bool *)field;
		if (k->flag)
			s = arena_printf(&E->arena, "%s%s%s = %s", s,
					 i ? ", " : "", k->name,
					 on ? "true" : "false");
		else
			s = arena_printf(&E->arena, "%s%s%s = %g", s,
					 i ? ", " : "", k->name,
					 *(const double *)field);
	}
	s = arena_printf(&E->arena, "%s)", s);
	if (E->m->train.clip_value > 0)
		s = arena_printf(&E->arena, "%s, clip_value = %g", s,
				 E->m->train.clip_value);
	if (E->m->train.clip_norm > 0)
		s = arena_printf(&E->arena, "%s, clip_norm = %g", s,
				 E->m->train.clip_norm);
	return s;
}
