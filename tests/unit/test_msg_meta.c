#include <criterion/criterion.h>
Test(placeholder_meta, builds)
{
	cr_assert(1);
}
