/* sidecar: single-threaded pthread implementation; see pthread.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Mutex fields: __u.__i[0] type, __u.__i[1] lock count. */
#define M_TYPE(m) ((m)->__u.__i[0])
#define M_COUNT(m) ((m)->__u.__i[1])

pthread_t pthread_self(void) { return (pthread_t)1; }
int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict a,
                   void *(*f)(void *), void *restrict arg)
{
    (void)t, (void)a, (void)f, (void)arg;
    return EAGAIN;
}
int pthread_join(pthread_t t, void **r) { (void)t, (void)r; return ESRCH; }
int pthread_detach(pthread_t t) { (void)t; return ESRCH; }
_Noreturn void pthread_exit(void *r) { exit(r ? 1 : 0); }

int pthread_attr_init(pthread_attr_t *a) { (void)a; return 0; }
int pthread_attr_destroy(pthread_attr_t *a) { (void)a; return 0; }
int pthread_attr_setscope(pthread_attr_t *a, int s) { (void)a, (void)s; return 0; }
int pthread_attr_setdetachstate(pthread_attr_t *a, int s) { (void)a, (void)s; return 0; }

int pthread_mutexattr_init(pthread_mutexattr_t *a) { a->__attr = 0; return 0; }
int pthread_mutexattr_destroy(pthread_mutexattr_t *a) { (void)a; return 0; }
int pthread_mutexattr_settype(pthread_mutexattr_t *a, int t)
{
    if (t < 0 || t > 2) return EINVAL;
    a->__attr = (unsigned)t;
    return 0;
}

int pthread_mutex_init(pthread_mutex_t *restrict m, const pthread_mutexattr_t *restrict a)
{
    __builtin_memset(m, 0, sizeof *m);
    M_TYPE(m) = a ? (int)a->__attr : 0;
    return 0;
}
int pthread_mutex_destroy(pthread_mutex_t *m) { (void)m; return 0; }

/* One thread: a lock is free unless we hold it. Relocking a normal mutex
 * would hang forever on Linux; report EDEADLK instead. */
int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (M_COUNT(m) && M_TYPE(m) != PTHREAD_MUTEX_RECURSIVE) return EDEADLK;
    M_COUNT(m)++;
    return 0;
}
int pthread_mutex_trylock(pthread_mutex_t *m)
{
    if (M_COUNT(m) && M_TYPE(m) != PTHREAD_MUTEX_RECURSIVE) return EBUSY;
    M_COUNT(m)++;
    return 0;
}
int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (!M_COUNT(m)) return EPERM;
    M_COUNT(m)--;
    return 0;
}

int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
    (void)c, (void)a;
    return 0;
}
int pthread_cond_destroy(pthread_cond_t *c) { (void)c; return 0; }
int pthread_cond_signal(pthread_cond_t *c) { (void)c; return 0; }
int pthread_cond_broadcast(pthread_cond_t *c) { (void)c; return 0; }

/* Nobody else can signal: waiting would never end. */
int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
    (void)c, (void)m;
    fputs("pthread_cond_wait: deadlock (sidecar guests are single-threaded)\n", stderr);
    abort();
}
int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                           const struct timespec *restrict t)
{
    (void)c, (void)m, (void)t;
    return ETIMEDOUT;
}

int pthread_rwlock_init(pthread_rwlock_t *restrict l, const pthread_rwlockattr_t *restrict a)
{
    (void)l, (void)a;
    return 0;
}
int pthread_rwlock_destroy(pthread_rwlock_t *l) { (void)l; return 0; }
int pthread_rwlock_rdlock(pthread_rwlock_t *l) { (void)l; return 0; }
int pthread_rwlock_wrlock(pthread_rwlock_t *l) { (void)l; return 0; }
int pthread_rwlock_unlock(pthread_rwlock_t *l) { (void)l; return 0; }

int pthread_once(pthread_once_t *o, void (*f)(void))
{
    if (!*o) {
        *o = 1;
        f();
    }
    return 0;
}

static struct {
    int used;
    const void *value;
} keys[PTHREAD_KEYS_MAX];

int pthread_key_create(pthread_key_t *k, void (*dtor)(void *))
{
    (void)dtor; /* the only thread never exits through pthread_exit's path */
    for (unsigned i = 0; i < PTHREAD_KEYS_MAX; i++) {
        if (!keys[i].used) {
            keys[i].used = 1;
            keys[i].value = NULL;
            *k = i;
            return 0;
        }
    }
    return EAGAIN;
}
int pthread_key_delete(pthread_key_t k)
{
    if (k >= PTHREAD_KEYS_MAX || !keys[k].used) return EINVAL;
    keys[k].used = 0;
    return 0;
}
void *pthread_getspecific(pthread_key_t k)
{
    return k < PTHREAD_KEYS_MAX && keys[k].used ? (void *)keys[k].value : NULL;
}
int pthread_setspecific(pthread_key_t k, const void *v)
{
    if (k >= PTHREAD_KEYS_MAX || !keys[k].used) return EINVAL;
    keys[k].value = v;
    return 0;
}

/* pthread_sigmask is the SDK's (signal.c): guests have real signal masks. */
