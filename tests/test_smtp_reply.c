#include "test_suites.h"

int
test_smtp_reply_register(void)
{
	return 0;
}
