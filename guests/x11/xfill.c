/*
 * xfill: open a window and fill it with one colour (plain Xlib).
 *
 *   xfill WxH+X+Y COLOR        e.g. xfill 200x150+100+80 '#c0ffee'
 *
 * Connects to $DISPLAY (default ":0"), retrying for up to 30 s since it may
 * start before the server listens. The window is override-redirect, so it
 * appears at exactly that geometry without a window manager. Once the first
 * fill has reached the server it prints
 *
 *   xfill: filled WxH+X+Y COLOR
 *
 * on stdout, then repaints on every Expose until it is killed or the server
 * closes the connection (exit status 0). COLOR is anything XParseColor
 * takes ("#rrggbb", "rgb:r/g/b", a name). Exit status 1 on errors, 2 on
 * bad usage.
 *
 * Builds for sidecar (scripts/build-x11-guests) and natively:
 *   cc -O2 -Wall -Wextra xfill.c -o xfill -lX11
 */
#define _POSIX_C_SOURCE 200809L

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CONNECT_TIMEOUT_S 30
#define CONNECT_RETRY_NS (50 * 1000 * 1000)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static Display *open_display(const char *name) {
    double deadline = now_s() + CONNECT_TIMEOUT_S;
    for (;;) {
        Display *dpy = XOpenDisplay(name);
        if (dpy || now_s() >= deadline)
            return dpy;
        struct timespec pause = {0, CONNECT_RETRY_NS};
        nanosleep(&pause, NULL);
    }
}

/* Xlib's default handler exits with status 1; the server going away is the
 * normal end of this client's life. */
static int io_error(Display *dpy) {
    (void)dpy;
    fprintf(stderr, "xfill: connection to the X server closed\n");
    exit(0);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: xfill WxH+X+Y COLOR\n");
        return 2;
    }
    const char *geometry = argv[1], *color_name = argv[2];
    int x = 0, y = 0;
    unsigned int w = 0, h = 0;
    int mask = XParseGeometry(geometry, &x, &y, &w, &h);
    if ((mask & (WidthValue | HeightValue)) != (WidthValue | HeightValue) ||
        (mask & (XNegative | YNegative)) || w == 0 || h == 0) {
        fprintf(stderr, "xfill: bad geometry %s (want WxH+X+Y)\n", geometry);
        return 2;
    }

    const char *name = getenv("DISPLAY");
    if (!name || !*name)
        name = ":0";
    Display *dpy = open_display(name);
    if (!dpy) {
        fprintf(stderr, "xfill: cannot open display %s within %d s\n", name,
                CONNECT_TIMEOUT_S);
        return 1;
    }
    XSetIOErrorHandler(io_error);
    int screen = DefaultScreen(dpy);
    Colormap cmap = DefaultColormap(dpy, screen);
    XColor color;
    if (!XParseColor(dpy, cmap, color_name, &color)) {
        fprintf(stderr, "xfill: bad colour %s\n", color_name);
        return 2;
    }
    if (!XAllocColor(dpy, cmap, &color)) {
        fprintf(stderr, "xfill: cannot allocate colour %s\n", color_name);
        return 1;
    }

    XSetWindowAttributes attrs;
    attrs.override_redirect = True;
    attrs.background_pixel = BlackPixel(dpy, screen);
    attrs.event_mask = ExposureMask | StructureNotifyMask;
    Window win = XCreateWindow(dpy, RootWindow(dpy, screen), x, y, w, h, 0,
                               CopyFromParent, InputOutput, CopyFromParent,
                               CWOverrideRedirect | CWBackPixel | CWEventMask,
                               &attrs);
    XGCValues gcv;
    gcv.foreground = color.pixel;
    GC gc = XCreateGC(dpy, win, GCForeground, &gcv);
    XMapWindow(dpy, win);

    int reported = 0;
    for (;;) {
        XEvent ev;
        XNextEvent(dpy, &ev);
        if (ev.type != Expose || ev.xexpose.count != 0)
            continue;
        XFillRectangle(dpy, win, gc, 0, 0, w, h);
        if (!reported) {
            /* The round trip: the fill is in the framebuffer before we say so. */
            XSync(dpy, False);
            printf("xfill: filled %ux%u+%d+%d %s\n", w, h, x, y, color_name);
            fflush(stdout);
            reported = 1;
        }
    }
}
