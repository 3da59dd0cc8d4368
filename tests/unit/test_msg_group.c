#include <criterion/criterion.h>
Test(placeholder_group, builds)
{
	cr_assert(1);
}
