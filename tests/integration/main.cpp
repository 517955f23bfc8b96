// doctest entry point for the integration tests; they need the throwaway PostgreSQL started by
// tests/integration/pg_harness.sh (the ctest fixture "pg").
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
