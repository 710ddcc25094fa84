/* wasi_trap.c: test guest that traps (unreachable) two calls deep, after printing a line, so the
 * host can check the trap message, the backtrace and that output before the trap arrived. */
#include <stdio.h>

__attribute__((noinline)) static void guest_crash_here(int x)
{
    if (x > 0)
        __builtin_trap();
}

__attribute__((noinline)) static void guest_call_crash(int x)
{
    guest_crash_here(x);
    printf("not reached\n");
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("about to trap\n");
    fflush(stdout);
    guest_call_crash(argc);
    return 0;
}
