/* wasi_epipe.c: test guest writing to a stdout whose reader is gone; a host running it must
 * answer errno `pipe` (not die of SIGPIPE). Prints "write: errno N" to stderr and exits 3 on the
 * first failed write, 0 if every write succeeded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 64; i++) {
        if (write(1, buf, sizeof buf) < 0) {
            fprintf(stderr, "write: errno %d\n", errno);
            return 3;
        }
    }
    return 0;
}
