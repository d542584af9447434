#include "test_suites.h"

int
test_sim_policy_register(void)
{
	return 0;
}
