/* igfix — builds the project's own fixtures (to be completed). */
#include <stdio.h>
int main(void)
{
    fputs("igfix: nothing yet\n", stderr);
    return 1;
}
