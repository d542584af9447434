#include "test_suites.h"

int
test_smtp_session_register(void)
{
	return 0;
}
