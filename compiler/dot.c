/*
 * dot.c - a graph as Graphviz, for `nnc --emit=dot`.
 *
 * requires: a graph after the passes (fuse groups set at -O1).
 *
 * One Graphviz node per IR node, labelled as the IR printer writes it
 * ("%4 matmul ca=4 cb=16 / [B, 16]"), in topological order with the same
 * dense ids: leaves (inputs, parameters, constants) as plain text, the
 * forward's ops as boxes, the backward's (made by autodiff) shaded, each
 * fused group inside a cluster box (a stored member with a bold border),
 * and the roots (loss, gradients, buffers, outputs) as ellipses at the
 * bottom. Edges run from operand to user. The text is deterministic.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

/* A label: characters dot treats specially in a quoted string escaped */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* "%4 matmul ca=4 cb=16", a line break, "[B, 16]" */
static void node_label(FILE *f, const Node *n)
{
	char shape[64];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	fprintf(m, "%%%d %s", n->id, op_info[n->op].name);
	ir_print_attrs(m, n);
	fclose(m);
	put_label(f, text);
	fputs("\\n", f);
	put_label(f, shape_str(n->shape, shape, sizeof(shape)));
	free(text);
}

static void print_node(FILE *f, const Node *n, const char *indent)
{
	fprintf(f, "%sn%d [label=\"", indent, n->id);
	node_label(f, n);
	fputc('"', f);
	if (op_info[n->op].cls == OK_LEAF)
		fputs(", shape=plaintext", f);
	else if (n->backward)
		fputs(", style=filled, fillcolor=\"#e8e8f4\"", f);
	if (n->group >= 0 && n->keep)
		fputs(", penwidth=2", f);
	fputs("];\n", f);
}

/* The nodes of fused group `group`, in a cluster */
static void print_group(FILE *f, Graph *g, int group)
{
	fprintf(f, "\tsubgraph cluster_g%d {\n", group);
	fprintf(f, "\t\tlabel=\"group %d\"; style=rounded; color=\"#4060a0\";\n",
		group);
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->group == group)
			print_node(f, g->nodes[i], "\t\t");
	fputs("\t}\n", f);
}

void dot_print(FILE *f, Graph *g, const char *title)
{
	int ngroups = 0;
	for (int i = 0; i < g->nnodes; i++) {
		g->nodes[i]->id = i;
		if (g->nodes[i]->group >= ngroups)
			ngroups = g->nodes[i]->group + 1;
	}
	fputs("digraph nnc {\n", f);
	fputs("\tlabel=\"", f);
	put_label(f, title);
	fputs("\"; labelloc=t;\n", f);
	fputs("\tnode [shape=box, fontname=\"monospace\", fontsize=10];\n", f);
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->group < 0)
			print_node(f, g->nodes[i], "\t");
	for (int grp = 0; grp < ngroups; grp++)
		print_group(f, g, grp);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			fprintf(f, "\tn%d -> n%d;\n", n->in[j]->id, n->id);
	}
	for (int r = 0; r < g->nroots; r++) {
		const Root *rt = &g->roots[r];
		fprintf(f, "\tr%d [label=\"", r);
		put_label(f, rt->name);
		fputs("\", shape=ellipse];\n", f);
		if (rt->node)
			fprintf(f, "\tn%d -> r%d;\n", rt->node->id, r);
	}
	fputs("}\n", f);
}
