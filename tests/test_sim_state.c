#include "test_suites.h"

int
test_sim_state_register(void)
{
	return 0;
}
