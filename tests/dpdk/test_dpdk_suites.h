/*
 * @file test_dpdk_suites.h
 * The tier-1 DPDK suites; test_dpdk_main.c registers them.
 * Each register function returns 0, or -1 when CUnit failed to add.
 */
#ifndef TEST_DPDK_SUITES_H
#define TEST_DPDK_SUITES_H

int test_dp_net_register(void);
int test_utcp_register(void);
int test_dp_world_register(void);
int test_dp_alloc_register(void);

#endif /* TEST_DPDK_SUITES_H */
