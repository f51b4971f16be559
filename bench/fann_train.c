/*
 * fann_train.c - the tiny examples trained by FANN (libfann-dev), for
 * the benchmark's comparison with nnc and PyTorch.
 *
 *   fann_train xor EPOCHS      examples/data/xor.csv, 2-8-1
 *   fann_train iris EPOCHS     examples/data/iris.csv, 4-16-3
 *
 * prints one line `<loop seconds> <steps> <samples>`: the wall time of
 * the epochs (shuffle, train, and for iris the validation pass), the
 * weight updates and the training samples seen. Run from the repository
 * root.
 *
 * FANN cannot express either example exactly; the closest it has, as
 * bench/README.md says:
 *
 * - xor: tanh hidden (FANN_SIGMOID_SYMMETRIC), logistic output
 *   (FANN_SIGMOID), plain batch backpropagation (FANN_TRAIN_BATCH: one
 *   update per epoch over the 4 rows, nnc's batch 4), learning rate 0.5
 *   (FANN's batch mode has no momentum), mean squared error instead of
 *   binary cross-entropy.
 * - iris: FANN 2.2 has no ReLU and no softmax: the hidden layer is
 *   FANN_LINEAR_PIECE (a ReLU clipped at 1), the output logistic with
 *   mean squared error against one-hot targets; no Adam and no
 *   mini-batches: FANN_TRAIN_BATCH over the 120 training rows, one update
 *   per epoch (FANN's cheapest per sample), learning rate 0.01; features
 *   standardised, 120 rows train and 30 validate (fann_test_data after
 *   every epoch, as nnc validates).
 */
#include <fann.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *msg)
{
	fprintf(stderr, "fann_train: %s\n", msg);
	exit(1);
}

/* n rows of `ncol` numbers from a CSV file after `skip` lines. */
static float *read_csv(const char *path, int skip, int ncol, int *n)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	float *v = NULL;
	int rows = 0;

	if (!f)
		die("cannot open the data file (run from the repository root)");
	while (fgets(line, sizeof(line), f)) {
		if (skip > 0) {
			skip--;
			continue;
		}
		v = realloc(v, (size_t)(rows + 1) * ncol * sizeof(*v));
		if (!v)
			die("out of memory");
		char *p = line;
		for (int c = 0; c < ncol; c++) {
			char *end;
			v[rows * ncol + c] = strtof(p, &end);
			if (end == p)
				die("bad number in the data file");
			p = end + (*end == ',');
		}
		rows++;
	}
	fclose(f);
	*n = rows;
	return v;
}

static struct fann *xor_setup(struct fann_train_data **train)
{
	int n;
	float *v = read_csv("examples/data/xor.csv", 0, 3, &n);
	struct fann *ann = fann_create_standard(3, 2, 8, 1);

	*train = fann_create_train(n, 2, 1);
	for (int r = 0; r < n; r++) {
		(*train)->input[r][0] = v[3 * r];
		(*train)->input[r][1] = v[3 * r + 1];
		(*train)->output[r][0] = v[3 * r + 2];
	}
	free(v);
	fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
	fann_set_activation_function_output(ann, FANN_SIGMOID);
	fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
	fann_set_learning_rate(ann, 0.5f);
	return ann;
}

static struct fann *iris_setup(struct fann_train_data **train,
			       struct fann_train_data **val)
{
	int n;
	float *v = read_csv("examples/data/iris.csv", 1, 5, &n);
	double mean[4] = {0}, sd[4] = {0};
	int nval = n / 5;
	struct fann *ann = fann_create_standard(3, 4, 16, 3);

	for (int r = 0; r < n; r++)
		for (int c = 0; c < 4; c++)
			mean[c] += v[5 * r + c] / n;
	for (int r = 0; r < n; r++)
		for (int c = 0; c < 4; c++)
			sd[c] += (v[5 * r + c] - mean[c]) * (v[5 * r + c] - mean[c]) / n;
	*train = fann_create_train(n - nval, 4, 3);
	*val = fann_create_train(nval, 4, 3);
	fann_set_activation_function_hidden(ann, FANN_LINEAR_PIECE);
	fann_set_activation_function_output(ann, FANN_SIGMOID);
	fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
	fann_set_learning_rate(ann, 0.01f);
	/* every fifth row validates (the file is sorted by class) */
	for (int r = 0, t = 0, s = 0; r < n; r++) {
		struct fann_train_data *d = r % 5 == 4 ? *val : *train;
		int i = r % 5 == 4 ? s++ : t++;

		for (int c = 0; c < 4; c++)
			d->input[i][c] = (v[5 * r + c] - mean[c]) / sqrt(sd[c]);
		for (int k = 0; k < 3; k++)
			d->output[i][k] = (int)v[5 * r + 4] == k;
	}
	free(v);
	return ann;
}

int main(int argc, char **argv)
{
	struct fann_train_data *train = NULL, *val = NULL;
	struct fann *ann;
	int epochs;

	if (argc != 3 || (epochs = atoi(argv[2])) <= 0)
		die("usage: fann_train xor|iris EPOCHS");
	if (!strcmp(argv[1], "xor"))
		ann = xor_setup(&train);
	else if (!strcmp(argv[1], "iris"))
		ann = iris_setup(&train, &val);
	else
		die("usage: fann_train xor|iris EPOCHS");
	fann_randomize_weights(ann, -0.5f, 0.5f);

	double t0 = now();
	for (int e = 0; e < epochs; e++) {
		fann_shuffle_train_data(train);
		fann_train_epoch(ann, train);
		if (val)
			fann_test_data(ann, val);
	}
	double t = now() - t0;

	printf("%.9f %d %ld\n", t, epochs,
	       (long)epochs * fann_length_train_data(train));
	fann_destroy_train(train);
	if (val)
		fann_destroy_train(val);
	fann_destroy(ann);
	return 0;
}
