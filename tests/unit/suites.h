/* One line per CUnit suite: SUITE(name) registers suite_<name>(), defined
 * in tests/unit/test_<name>.c. */
SUITE(lexer)
SUITE(parser)
SUITE(ir)
SUITE(passes)
SUITE(sema)
SUITE(optim)
SUITE(autodiff)
SUITE(sema_sched)
