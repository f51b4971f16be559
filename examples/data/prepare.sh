#!/bin/sh
# Rebuilds the small example datasets from Debian's python3-sklearn
# (install it first: apt-get install python3-sklearn). The results are
# committed; the build, the tests and CI read only the copies here.
set -eu
cd "$(dirname "$0")"
SK=/usr/lib/python3/dist-packages/sklearn/datasets/data
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n' > xor.csv
cp "$SK/iris.csv" iris.csv
cp "$SK/breast_cancer.csv" breast_cancer.csv
gzip -dc "$SK/digits.csv.gz" > digits.csv
{
	echo "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,target"
	gzip -dc "$SK/diabetes_data_raw.csv.gz" | tr -s ' ' ',' > /tmp/diabetes_x.$$
	gzip -dc "$SK/diabetes_target.csv.gz" | paste -d, /tmp/diabetes_x.$$ -
	rm -f /tmp/diabetes_x.$$
}  > diabetes.csv
