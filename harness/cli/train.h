/* train.h - the trainers behind `harvestbench train POLICY CONFIG ...` (harness/cli/cmd_train.c).
 * Each takes the arguments after the policy's name (argv[0] is the policy's name) and returns the
 * exit status: 0 trained and saved, 1 a run failed or was interrupted, 2 bad usage or input. */
#ifndef HB_TRAIN_H
#define HB_TRAIN_H

int hb_train_freyr(int argc, char **argv);     /* harness/cli/cmd_train_freyr.c */
int hb_train_libra(int argc, char **argv);     /* harness/cli/cmd_train_libra.c */

#endif
