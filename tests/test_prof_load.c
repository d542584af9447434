#include "test_suites.h"

int
test_prof_load_register(void)
{
	return 0;
}
