/*
 * sp_events.h -- Spread's event loop (file descriptors and timers), as
 * Spread's own tools use it. Include sp.h, not this file.
 */
#ifndef INC_SP_EVENTS
#define INC_SP_EVENTS

#define MAX_FD_EVENTS 2000 /* descriptors per priority */

#define NUM_PRIORITY    3
#define LOW_PRIORITY    0
#define MEDIUM_PRIORITY 1
#define HIGH_PRIORITY   2

#define NUM_FDTYPES 3
#define READ_FD     0
#define WRITE_FD    1
#define EXCEPT_FD   2

typedef struct dummy_time {
    long sec;
    long usec;
} sp_time;

#ifndef NULL
#define NULL ((void *)0)
#endif

int     E_init(void);

sp_time E_get_time(void);           /* wall clock */
sp_time E_get_time_monotonic(void); /* the clock timers run on */
sp_time E_sub_time(sp_time t, sp_time delta_t);
sp_time E_add_time(sp_time t, sp_time delta_t);
sp_time E_neg_time(sp_time t);
int     E_compare_time(sp_time t1, sp_time t2); /* 1 if t1 > t2, -1 if t1 < t2, 0 if equal */

/* Timers: one per (func, code, data); queueing it again moves it. */
int  E_queue(void (*func)(int code, void *data), int code, void *data, sp_time delta_time);
int  E_dequeue(void (*func)(int code, void *data), int code, void *data);
int  E_in_queue(void (*func)(int code, void *data), int code, void *data);
void E_delay(sp_time t);

int E_attach_fd(int fd, int fd_type, void (*func)(int fd, int code, void *data), int code,
                void *data, int priority);
int E_detach_fd(int fd, int fd_type);
int E_detach_fd_priority(int fd, int fd_type, int priority);
int E_set_active_threshold(int priority);
int E_activate_fd(int fd, int fd_type);
int E_deactivate_fd(int fd, int fd_type);
int E_num_active(int priority);

void E_handle_events(void);
void E_exit_events(void);
void E_exit_events_async_safe(void);

#endif /* INC_SP_EVENTS */
