/* test_invoker_model.c - the invoker model both the simulator and the local backend run
 * (harness/backends/invoker_model.h), driven by a toy backend whose primitives only record what
 * they are asked: FIFO admission by reserve, rejection of what can never fit, usage rows integrated
 * exactly across seconds, resizing refused beyond capacity, a call's time-weighted allocation and
 * resource-seconds, and warm containers with keep-alive. */
#include <math.h>
#include <string.h>

#include "hb_test.h"
#include "invoker_model.h"

/* ---- the toy backend ---- */

static hb_time g_now;
static int g_live, g_started[8], g_n_started, g_ended[8], g_n_ended, g_resized;
static hb_usage_row g_rows[64];
static int g_n_rows;

static hb_time toy_now(void *ctx) { (void)ctx; return g_now; }

static hb_im_call *toy_new(void *ctx)
{
    (void)ctx;
    g_live++;
    return calloc(1, sizeof(hb_im_call));
}

static void toy_free(void *ctx, hb_im_call *c)
{
    (void)ctx;
    g_live--;
    free(c);
}

static int toy_start(void *ctx, hb_im_call *c, hb_error *err)
{
    (void)ctx;
    (void)err;
    g_started[g_n_started++] = (int)c->inv->index;
    return 0;
}

static int toy_resize(void *ctx, hb_im_call *c, int cpu_changed, hb_error *err)
{
    (void)ctx;
    (void)c;
    (void)cpu_changed;
    (void)err;
    g_resized++;
    return 0;
}

static int toy_sample(void *ctx, hb_im_invoker *iv, hb_time now, hb_usage_sample *out,
                      hb_error *err)
{
    (void)ctx;
    (void)now;
    (void)err;
    for (size_t i = 0; i < iv->n_run; i++)
        out[i] = (hb_usage_sample){iv->run[i]->inv, 0.5, 100};
    return 0;
}

static const hb_im_ops TOY_OPS = {
    .now = toy_now, .call_new = toy_new, .call_free = toy_free, .start = toy_start,
    .resize = toy_resize, .sample = toy_sample,
};

static int on_end(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)ctx;
    (void)iv;
    (void)err;
    g_ended[g_n_ended++] = (int)inv->index;
    return 0;
}

static int on_usage(void *ctx, const hb_usage_row *row, hb_error *err)
{
    (void)ctx;
    (void)err;
    if (g_n_rows < 64)
        g_rows[g_n_rows++] = *row;
    return 0;
}

static size_t g_tick_n;
static int g_ticks;

static int on_tick(void *ctx, hb_invoker *iv, const hb_usage_sample *smp, size_t n, hb_error *err)
{
    (void)ctx;
    (void)iv;
    (void)err;
    g_ticks++;
    g_tick_n = n;
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(smp[i].mem_mb, 100);
    return 0;
}

static const hb_backend_hooks HOOKS = {.on_end = on_end, .on_usage = on_usage, .on_tick = on_tick,
                                       .tick_interval = 100 * HB_MS};

static void toy_open(hb_im *m, int containers, hb_time keep_alive)
{
    g_now = 0;
    g_live = g_n_started = g_n_ended = g_resized = g_n_rows = g_ticks = 0;
    g_tick_n = 0;
    hb_im_config cfg = {
        .n_invokers = 1, .capacity = {2, 1000}, .n_funcs = 2, .containers = containers,
        .keep_alive = keep_alive, .usage_rows = 1, .hooks = &HOOKS, .ops = &TOY_OPS,
    };
    hb_error err = {0};
    ck_assert_int_eq(hb_im_open(m, &cfg, &err), 0);
}

static hb_invocation call(uint64_t index, int func, double cpu, double mem)
{
    hb_invocation inv;
    memset(&inv, 0, sizeof inv);
    inv.index = index;
    inv.func = func;
    inv.user = inv.alloc_start = inv.reserve = (hb_res){cpu, mem};
    inv.arrival = g_now;
    return inv;
}

static hb_im_call *im_call(hb_invocation *inv) { return inv->backend_data; }

static void submit(hb_im *m, hb_invocation *inv)
{
    hb_error err = {0};
    ck_assert_int_eq(hb_im_submit(m, inv, &err), 0);
}

/* ---- the tests ---- */

/* A call waits while the one ahead of it does not fit, even if it would fit itself (FIFO), and
 * both are admitted, in order, when the first running call ends. */
START_TEST(test_admission_fifo)
{
    hb_im m;
    hb_error err = {0};
    toy_open(&m, 0, 0);
    hb_invocation a = call(0, 0, 1.5, 100), b = call(1, 0, 1, 100), c = call(2, 0, 0.2, 100);
    submit(&m, &a);
    submit(&m, &b);
    submit(&m, &c);
    ck_assert_int_eq(g_n_started, 1);
    ck_assert_int_eq((int)m.iv[0].n_queued, 2);
    g_now = 2 * HB_SEC;
    hb_im_running(im_call(&a), HB_SEC);
    ck_assert_int_eq(hb_im_end(im_call(&a), g_now, HB_SUCCESS, 0, &err), 0);
    ck_assert_int_eq(g_n_started, 3);
    ck_assert_int_eq(g_started[1], 1);
    ck_assert_int_eq(g_started[2], 2);
    ck_assert_int_eq(b.start, 2 * HB_SEC);
    ck_assert_int_eq(a.outcome, HB_SUCCESS);
    ck_assert_int_eq(a.exec_start, 0);          /* the toy's start leaves it to the backend */
    ck_assert_int_eq(a.end, 2 * HB_SEC);
    ck_assert_int_eq((int)m.iv[0].n_queued, 0);
    ck_assert_int_eq((int)m.iv[0].n_run, 2);
    hb_im_close(&m);
    ck_assert_int_eq(g_live, 0);                /* close releases the calls still held */
}
END_TEST

/* Admission counts what admitted calls hold (their reserve), not only what they are allocated. */
START_TEST(test_admission_by_reserve)
{
    hb_im m;
    toy_open(&m, 0, 0);
    hb_invocation a = call(0, 0, 0.5, 100), b = call(1, 0, 0.5, 100);
    a.reserve.cpu = 1.5;
    b.reserve.cpu = 1;
    submit(&m, &a);
    submit(&m, &b);
    ck_assert_int_eq(g_n_started, 1);          /* 1.5 + 1 reserved > 2 cores, though 0.5 + 0.5 fit */
    ck_assert_int_eq((int)m.iv[0].n_queued, 1);
    hb_im_close(&m);
}
END_TEST

/* A call whose reserve exceeds the invoker ends at once as an error, never blocking the queue. */
START_TEST(test_reject_never_fits)
{
    hb_im m;
    toy_open(&m, 0, 0);
    g_now = 5 * HB_SEC;
    hb_invocation a = call(0, 0, 3, 100);
    submit(&m, &a);
    ck_assert_int_eq(a.outcome, HB_ERROR);
    ck_assert_int_eq(a.end, 5 * HB_SEC);
    ck_assert_int_eq(g_n_ended, 1);
    ck_assert_int_eq(g_live, 0);
    ck_assert_ptr_nonnull(strstr(a.error_msg, "more than an invoker has"));
    hb_im_close(&m);
}
END_TEST

/* Levels held across several seconds without a flush in between, and a reading spanning seconds,
 * land in the right seconds exactly. */
START_TEST(test_usage_rows_exact)
{
    hb_im m;
    hb_error err = {0};
    toy_open(&m, 0, 0);
    g_now = HB_SEC / 2;
    hb_invocation a = call(0, 0, 1.5, 200), b = call(1, 0, 1, 100);
    submit(&m, &a);
    submit(&m, &b);      /* queued: 1.5 + 1 > 2 cores */
    hb_im_running(im_call(&a), HB_SEC / 2);
    /* a reading of 0.8 cores over [0.5 s, 2.5 s] */
    ck_assert_int_eq(hb_im_usage_add(&m.iv[0], HB_IM_CPU_USED, HB_SEC / 2, 5 * HB_SEC / 2, 0.8), 0);
    g_now = 9 * HB_SEC / 4;
    ck_assert_int_eq(hb_im_end(im_call(&a), g_now, HB_SUCCESS, 0, &err), 0);
    g_now = 3 * HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&b), g_now, HB_SUCCESS, 0, &err), 0);
    ck_assert_int_eq(hb_im_flush_last(&m, g_now, &err), 0);
    ck_assert_int_eq(g_n_rows, 3);
    ck_assert_double_eq_tol(g_rows[0].cpu_alloc, 0.75, 1e-12);
    ck_assert_double_eq_tol(g_rows[1].cpu_alloc, 1.5, 1e-12);
    ck_assert_double_eq_tol(g_rows[2].cpu_alloc, 1.5 * 0.25 + 1 * 0.75, 1e-12);
    ck_assert_double_eq_tol(g_rows[0].queued, 0.5, 1e-12);
    ck_assert_double_eq_tol(g_rows[1].queued, 1, 1e-12);
    ck_assert_double_eq_tol(g_rows[2].queued, 0.25, 1e-12);
    ck_assert_double_eq_tol(g_rows[1].mem_alloc_mb, 200, 1e-9);
    ck_assert_double_eq_tol(g_rows[0].cpu_used, 0.4, 1e-12);
    ck_assert_double_eq_tol(g_rows[1].cpu_used, 0.8, 1e-12);
    ck_assert_double_eq_tol(g_rows[2].cpu_used, 0.4, 1e-12);
    ck_assert_int_eq(g_rows[2].t, 2 * HB_SEC);
    hb_im_close(&m);
}
END_TEST

/* Resizing: within capacity it is applied and the call's mean allocation and lent and received
 * resource-seconds follow it; beyond capacity it is refused and nothing changes. */
START_TEST(test_resize)
{
    hb_im m;
    hb_error err = {0};
    toy_open(&m, 0, 0);
    hb_invocation a = call(0, 0, 1, 400), b = call(1, 0, 0.5, 100);
    a.cpu_hard = 1;
    submit(&m, &a);
    submit(&m, &b);
    hb_im_running(im_call(&a), 0);
    hb_invoker *iv = &m.iv[0].pub;
    g_now = HB_SEC;
    ck_assert_int_ne(hb_invoker_resize(iv, &a, (hb_res){1.6, 400}, &err), 0);
    ck_assert_double_eq(a.alloc.cpu, 1);
    ck_assert_int_eq(g_resized, 0);
    ck_assert_int_eq(hb_invoker_resize(iv, &a, (hb_res){1.5, 200}, &err), 0);
    ck_assert_int_eq(g_resized, 1);
    ck_assert_double_eq(a.alloc.cpu, 1.5);
    g_now = 3 * HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&a), g_now, HB_SUCCESS, 0, &err), 0);
    ck_assert_double_eq_tol(a.alloc_mean.cpu, (1 * 1 + 1.5 * 2) / 3.0, 1e-12);
    ck_assert_double_eq_tol(a.alloc_mean.mem_mb, (400 * 1 + 200 * 2) / 3.0, 1e-9);
    ck_assert_double_eq_tol(a.borrowed_cpu_s, 0.5 * 2, 1e-12);
    ck_assert_double_eq_tol(a.harvested_mem_mb_s, 200 * 2, 1e-9);
    ck_assert_double_eq_tol(a.borrowed_running_cpu_s, 0.5 * 2, 1e-12);
    hb_im_close(&m);
}
END_TEST

/* A monitor tick samples every running call of an invoker, in start order, and runs the policy's
 * hook; an invoker with none running is not sampled. */
START_TEST(test_tick)
{
    hb_im m;
    hb_error err = {0};
    toy_open(&m, 0, 0);
    ck_assert_int_eq(hb_im_tick_all(&m, 0, &err), 0);
    ck_assert_int_eq(g_ticks, 0);
    hb_invocation a = call(0, 0, 0.5, 100), b = call(1, 0, 0.5, 100);
    submit(&m, &a);
    submit(&m, &b);
    ck_assert_int_eq(hb_im_tick_all(&m, 100 * HB_MS, &err), 0);
    ck_assert_int_eq(g_ticks, 1);
    ck_assert_int_eq((int)g_tick_n, 2);
    ck_assert_ptr_eq(m.iv[0].samples[1].inv, &b);
    hb_im_close(&m);
}
END_TEST

/* Virtual containers: a call that succeeded leaves its container warm for the keep-alive; one
 * killed leaves none; an idle container is evicted when a cold one needs its memory. */
START_TEST(test_containers)
{
    hb_im m;
    hb_error err = {0};
    toy_open(&m, 1, 10 * HB_SEC);
    hb_invocation a = call(0, 0, 1, 600);
    submit(&m, &a);
    ck_assert_int_eq(a.cold_start, 1);
    g_now = HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&a), g_now, HB_SUCCESS, 0, &err), 0);
    ck_assert_double_eq(m.iv[0].idle_mem, 600);

    g_now = 5 * HB_SEC;                         /* within its keep-alive: warm */
    hb_invocation b = call(1, 0, 1, 600);
    submit(&m, &b);
    ck_assert_int_eq(b.cold_start, 0);
    g_now = 6 * HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&b), g_now, HB_OOM, 0, &err), 0);
    ck_assert_double_eq(m.iv[0].idle_mem, 0); /* killed: its container is gone */

    hb_invocation c = call(2, 0, 1, 600);
    submit(&m, &c);
    ck_assert_int_eq(c.cold_start, 1);
    g_now = 7 * HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&c), g_now, HB_SUCCESS, 0, &err), 0);
    /* another function's cold container needs 600 of the 1000 MB: the idle one is evicted */
    hb_invocation d = call(3, 1, 1, 600);
    submit(&m, &d);
    ck_assert_int_eq(d.cold_start, 1);
    ck_assert_double_eq(m.iv[0].idle_mem, 0);
    g_now = 8 * HB_SEC;
    ck_assert_int_eq(hb_im_end(im_call(&d), g_now, HB_SUCCESS, 0, &err), 0);

    g_now = 18 * HB_SEC;                        /* past its keep-alive: cold */
    hb_invocation e = call(4, 1, 1, 100);
    submit(&m, &e);
    ck_assert_int_eq(e.cold_start, 1);
    hb_im_close(&m);
    ck_assert_int_eq(g_live, 0);
}
END_TEST

HB_TEST_MAIN("invoker_model", test_admission_fifo, test_admission_by_reserve, test_reject_never_fits, test_usage_rows_exact,
             test_resize, test_tick, test_containers)
