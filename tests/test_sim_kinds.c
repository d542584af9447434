#include "test_suites.h"

int
test_sim_kinds_register(void)
{
	return 0;
}
