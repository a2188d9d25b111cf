/* Version of the library actually linked, for checks against the header. */
#include "cscore.h"

int cs_version_number(void)
{
    return CS_VERSION_NUMBER;
}

const char *cs_version_string(void)
{
    return CS_VERSION_STRING;
}
