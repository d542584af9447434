#include "test_suites.h"

int
test_sim_clock_register(void)
{
	return 0;
}
