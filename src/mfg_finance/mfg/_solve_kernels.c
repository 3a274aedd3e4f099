/* The solve path's compiled kernels, C build: one HJB/FP sweep and the LQ moment recursions.
 *
 * A transcription of mfg_finance/mfg/sweep_kernel.py (the numba build) and of the twisted GTH factorisation of
 * mfg_finance/mfg/tridiag.py, operation for operation and in the same order, so that both builds give the same
 * bits (tests/mfg/test_mfg_kernels_c.py); the scheme, its equations and units are documented there and in
 * mfg_finance/mfg/hjb.py. Compiled at install when a C compiler is present (pyproject.toml, optional: without
 * one the numba build is used); mfg_finance/mfg/kernels.py picks the build. Built with -ffp-contract=off: no
 * fused multiply-add where the source has a product and a sum (numba does not fuse either).
 *
 * The Python side (mfg_finance/mfg/hjb.py, moments.py) allocates every array; the functions here take C-contiguous
 * float64 buffers (int64 for the iteration counts), check their sizes and only compute. No NumPy headers. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))   /* into each clone: its vector width */
#else
#define INLINE static inline
#endif

enum { G_HM, G_HP, G_CU, G_CD, G_GP, G_GM, G_LO, G_HI, G_IHM, G_IHP, GEOMETRY_ROWS };

static inline double dmax(double x, double y) { return x > y ? x : y; }
static inline double dmin(double x, double y) { return x < y ? x : y; }

/* ---- twisted GTH factorisation of I - dt A and its two solves (mfg_finance/mfg/tridiag.py) ---------------- */

INLINE void twisted_factor(const double *restrict up, const double *restrict down, Py_ssize_t n, double dt,
                                  double *restrict piv, double *restrict mult, double *restrict outer)
{
    Py_ssize_t k = (n - 1) / 2, j, i;
    double a, c, p, s_top, s_bottom, r_top = 0.0, r_bottom, twist;
    outer[k] = 0.0;
    if (n == 1) {
        piv[0] = 1.0;
        return;
    }
    if (k > 0) {
        c = dt * up[0];
        p = 1.0 + c;
        r_top = 1.0 / p;
        piv[0] = r_top;
        outer[0] = c * r_top;
    }
    a = dt * down[n - 2];
    p = 1.0 + a;
    r_bottom = 1.0 / p;
    piv[n - 1] = r_bottom;
    outer[n - 1] = a * r_bottom;
    for (j = 1; j < k; j++) {
        a = dt * down[j - 1];
        c = dt * up[j];
        mult[j - 1] = a * piv[j - 1];
        s_top = 1.0 + a * r_top;
        p = s_top + c;
        r_top = s_top / p;
        piv[j] = 1.0 / p;
        outer[j] = c * piv[j];
        i = n - 1 - j;
        a = dt * down[i - 1];
        c = dt * up[i];
        mult[i] = c * piv[i + 1];
        s_bottom = 1.0 + c * r_bottom;
        p = s_bottom + a;
        r_bottom = s_bottom / p;
        piv[i] = 1.0 / p;
        outer[i] = a * piv[i];
    }
    i = (n - 1 - k < n - 2) ? n - 1 - k : n - 2;
    for (; i > k; i--) {
        a = dt * down[i - 1];
        c = dt * up[i];
        mult[i] = c * piv[i + 1];
        s_bottom = 1.0 + c * r_bottom;
        p = s_bottom + a;
        r_bottom = s_bottom / p;
        piv[i] = 1.0 / p;
        outer[i] = a * piv[i];
    }
    twist = 1.0;
    if (k > 0) {
        a = dt * down[k - 1];
        mult[k - 1] = a * piv[k - 1];
        twist += a * r_top;
    }
    c = dt * up[k];
    mult[k] = c * piv[k + 1];
    twist += c * r_bottom;
    piv[k] = 1.0 / twist;
}

INLINE void twisted_solve(const double *restrict piv, const double *restrict mult,
                                 const double *restrict outer, const double *restrict b, double *restrict x,
                                 Py_ssize_t n)
{
    Py_ssize_t k = (n - 1) / 2, j, i, m;
    double top, bottom, y;
    if (n == 1) {
        x[0] = b[0] * piv[0];
        return;
    }
    top = b[0];
    bottom = b[n - 1];
    x[0] = top;
    x[n - 1] = bottom;
    for (j = 1; j < k; j++) {
        i = n - 1 - j;
        top = b[j] + mult[j - 1] * top;
        bottom = b[i] + mult[i] * bottom;
        x[j] = top;
        x[i] = bottom;
    }
    i = (n - 1 - k < n - 2) ? n - 1 - k : n - 2;
    for (; i > k; i--) {
        bottom = b[i] + mult[i] * bottom;
        x[i] = bottom;
    }
    y = b[k] + mult[k] * bottom;
    if (k > 0)
        y += mult[k - 1] * top;
    x[k] = y * piv[k];
    top = bottom = x[k];
    for (j = 1; j <= k; j++) {
        i = k - j;
        m = k + j;
        top = x[i] * piv[i] + outer[i] * top;
        bottom = x[m] * piv[m] + outer[m] * bottom;
        x[i] = top;
        x[m] = bottom;
    }
    for (i = 2 * k + 1; i < n; i++) {
        bottom = x[i] * piv[i] + outer[i] * bottom;
        x[i] = bottom;
    }
}

INLINE void twisted_solve_transpose(const double *restrict piv, const double *restrict mult,
                                           const double *restrict outer, const double *restrict b,
                                           double *restrict x, Py_ssize_t n)
{
    Py_ssize_t k = (n - 1) / 2, j, i, m;
    double top, bottom, y;
    if (n == 1) {
        x[0] = b[0] * piv[0];
        return;
    }
    top = b[0];
    bottom = b[n - 1];
    x[0] = top;
    x[n - 1] = bottom;
    for (j = 1; j < k; j++) {
        i = n - 1 - j;
        top = b[j] + outer[j - 1] * top;
        bottom = b[i] + outer[i + 1] * bottom;
        x[j] = top;
        x[i] = bottom;
    }
    i = (n - 1 - k < n - 2) ? n - 1 - k : n - 2;
    for (; i > k; i--) {
        bottom = b[i] + outer[i + 1] * bottom;
        x[i] = bottom;
    }
    y = b[k] + outer[k + 1] * bottom;
    if (k > 0)
        y += outer[k - 1] * top;
    x[k] = y * piv[k];
    top = bottom = x[k];
    for (j = 1; j <= k; j++) {
        i = k - j;
        m = k + j;
        top = x[i] * piv[i] + mult[i] * top;
        bottom = x[m] * piv[m] + mult[m - 1] * bottom;
        x[i] = top;
        x[m] = bottom;
    }
    for (i = 2 * k + 1; i < n; i++) {
        bottom = x[i] * piv[i] + mult[i - 1] * bottom;
        x[i] = bottom;
    }
}

/* ---- the hybrid scheme (mfg_finance/mfg/sweep_kernel.py) ------------------------------------------------- */

INLINE void geometry(const double *restrict q, Py_ssize_t n, double D, double *restrict geo)
{
    Py_ssize_t i;
    double hm, hp, W;
    memset(geo, 0, sizeof(double) * GEOMETRY_ROWS * n);
    geo[G_IHP * n + 0] = 1.0 / (q[1] - q[0]);
    geo[G_IHM * n + n - 1] = 1.0 / (q[n - 1] - q[n - 2]);
    for (i = 1; i < n - 1; i++) {
        hm = q[i] - q[i - 1];
        hp = q[i + 1] - q[i];
        W = hm + hp;
        geo[G_HM * n + i] = hm;
        geo[G_HP * n + i] = hp;
        geo[G_CU * n + i] = 1.0 / (hp * W);
        geo[G_CD * n + i] = 1.0 / (hm * W);
        geo[G_GP * n + i] = hm / (hp * W);
        geo[G_GM * n + i] = hp / (hm * W);
        geo[G_LO * n + i] = -2.0 * D / hm;
        geo[G_HI * n + i] = 2.0 * D / hp;
        geo[G_IHM * n + i] = 1.0 / hm;
        geo[G_IHP * n + i] = 1.0 / hp;
    }
}

#define GEO(row, i) geo[(row) * n + (i)]

INLINE void rates(double a, const double *restrict geo, Py_ssize_t n, Py_ssize_t i, double D,
                         double *restrict r_up, double *restrict r_down)
{
    double hm = GEO(G_HM, i), hp = GEO(G_HP, i);
    double De = dmax(dmax(D, 0.5 * a * hp), -0.5 * a * hm);
    *r_up = dmax((2.0 * De + a * hm) * GEO(G_CU, i), 0.0);
    *r_down = dmax((2.0 * De - a * hp) * GEO(G_CD, i), 0.0);
}

INLINE void policy(const double *restrict u, double eta, const double *restrict geo, Py_ssize_t n, double D,
                          double *restrict out)
{
    Py_ssize_t i;
    double half = 0.5 / eta;
    for (i = 1; i < n - 1; i++) {
        double dp = u[i + 1] - u[i], dm = u[i - 1] - u[i];
        double lo = GEO(G_LO, i), hi = GEO(G_HI, i);
        double a, r_up, r_down, best, lowest, value;
        int better;
        a = dmin(dmax(-(dp * GEO(G_GP, i) - dm * GEO(G_GM, i)) * half, lo), hi);     /* central piece */
        rates(a, geo, n, i, D, &r_up, &r_down);
        best = a;
        lowest = r_up * dp + r_down * dm + eta * a * a;
        a = dmax(-dp * GEO(G_IHP, i) * half, hi);                                      /* upwind, buying */
        rates(a, geo, n, i, D, &r_up, &r_down);
        value = r_up * dp + r_down * dm + eta * a * a;
        better = value < lowest;
        best = better ? a : best;
        lowest = better ? value : lowest;
        a = dmin(dm * GEO(G_IHM, i) * half, lo);                                       /* upwind, selling */
        rates(a, geo, n, i, D, &r_up, &r_down);
        value = r_up * dp + r_down * dm + eta * a * a;
        out[i] = value < lowest ? a : best;
    }
    out[0] = dmax((u[0] - u[1]) * GEO(G_IHP, 0), 0.0) * half;
    out[n - 1] = dmin((u[n - 2] - u[n - 1]) * GEO(G_IHM, n - 1), 0.0) * half;
}

INLINE void fill_rates(const double *restrict a, const double *restrict geo, Py_ssize_t n, double D,
                              double *restrict up, double *restrict down)
{
    Py_ssize_t i;
    double r_up, r_down, ih;
    for (i = 1; i < n - 1; i++) {
        rates(a[i], geo, n, i, D, &r_up, &r_down);
        up[i] = r_up;
        down[i - 1] = r_down;
    }
    ih = GEO(G_IHP, 0);
    up[0] = D * ih * ih + dmax(a[0], 0.0) * ih;
    ih = GEO(G_IHM, n - 1);
    down[n - 2] = D * ih * ih + dmax(-a[n - 1], 0.0) * ih;
}

#undef GEO

/* The sweep itself (arguments as sweep_into's, checked there); compiled for AVX-512 and AVX2 beside the baseline
 * where the compiler can (the loader picks the clone the processor runs: the same arithmetic, wider vectors). */
CLONES static int sweep_compute(Py_ssize_t nt, Py_ssize_t nx, const double *restrict eta, const double *restrict q,
                                const double *restrict dts, double sigma, double phi, double gamma_T, double tol,
                                long max_iter, const double *restrict mass0, const double *restrict weights,
                                double shift, int warm, int reuse, int keep_rates, const double *restrict start,
                                const double *restrict spiv, const double *restrict smult,
                                const double *restrict souter, double *restrict u, double *restrict alpha,
                                double *restrict density, double *restrict flow, int64_t *restrict iters,
                                double *restrict up, double *restrict down, double *restrict piv,
                                double *restrict mult, double *restrict outer, double *restrict last,
                                double *restrict geo, double *restrict work)
{
    Py_ssize_t i, n, k;
    int finite = 1;
    double D = 0.5 * sigma * sigma;
    double *rhs = work, *new_ = work + nx, *a = work + 2 * nx, *cost = work + 3 * nx;
    double *mass = work + 4 * nx, *later = work + 5 * nx, *up_n = work + 6 * nx, *down_n = work + 7 * nx, *swap;
    geometry(q, nx, D, geo);
    for (i = 0; i < nx; i++) {
        u[nt * nx + i] = gamma_T * q[i] * q[i];
        cost[i] = phi * q[i] * q[i];
    }
    policy(u + nt * nx, eta[nt], geo, nx, D, alpha + nt * nx);
    for (n = nt - 1; n >= 0; n--) {
        double h = dts[n], e = eta[n], change, d;
        double *un = u + n * nx, *un1 = u + (n + 1) * nx;
        double *pv = piv + n * nx, *ml = mult + n * (nx - 1), *ot = outer + n * nx;
        if (warm)
            memcpy(a, start + n * nx, sizeof(double) * nx);
        else
            policy(un1, e, geo, nx, D, a);
        for (k = 0; k < max_iter; k++) {
            if (k == 0 && reuse) {
                memcpy(pv, spiv + n * nx, sizeof(double) * nx);
                memcpy(ml, smult + n * (nx - 1), sizeof(double) * (nx - 1));
                memcpy(ot, souter + n * nx, sizeof(double) * nx);
            } else {
                fill_rates(a, geo, nx, D, up_n, down_n);
                twisted_factor(up_n, down_n, nx, h, pv, ml, ot);
                if (keep_rates) {
                    memcpy(up + n * (nx - 1), up_n, sizeof(double) * (nx - 1));
                    memcpy(down + n * (nx - 1), down_n, sizeof(double) * (nx - 1));
                }
            }
            for (i = 0; i < nx; i++)
                rhs[i] = un1[i] + h * (cost[i] + e * a[i] * a[i]);
            twisted_solve(pv, ml, ot, rhs, new_, nx);
            change = 0.0;
            if (k > 0)
                for (i = 0; i < nx; i++) {
                    d = fabs(new_[i] - un[i]) / (fabs(new_[i]) + 1e-300);
                    if (d > change)
                        change = d;
                }
            memcpy(un, new_, sizeof(double) * nx);
            memcpy(alpha + n * nx, a, sizeof(double) * nx);
            iters[n] = k + 1;
            if (k > 0 && change <= tol)
                break;
            policy(new_, e, geo, nx, D, a);
        }
    }
    for (i = 0; i < nx; i++) {
        mass[i] = mass0[i];
        density[i] = mass0[i] / weights[i];
    }
    for (n = 0; n < nt; n++) {
        double m = 0.0;
        const double *al = alpha + n * nx;
        double *dn = density + (n + 1) * nx;
        twisted_solve_transpose(piv + n * nx, mult + n * (nx - 1), outer + n * nx, mass, later, nx);
        for (i = 0; i < nx; i++) {
            m += al[i] * later[i];
            dn[i] = later[i] / weights[i];
        }
        flow[n] = m;
        swap = mass;
        mass = later;
        later = swap;
    }
    {
        double m = 0.0;
        for (i = 0; i < nx; i++) {
            m += alpha[nt * nx + i] * mass[i];
            last[i] = mass[i];
        }
        flow[nt] = m;
    }
    for (i = 0; i < (nt + 1) * nx; i++) {
        u[i] = u[i] + shift;
        if (!(isfinite(u[i]) && isfinite(density[i])))
            finite = 0;
    }
    return finite;
}

/* ---- argument handling ----------------------------------------------------------------------------------- */

typedef struct {
    Py_buffer view;
    int held;
} Arg;

/* A C-contiguous buffer of `count` items of `itemsize` bytes (count < 0: any multiple of `row` items). */
static int get_array(PyObject *obj, Arg *arg, const char *name, Py_ssize_t count, Py_ssize_t row, int writable,
                     char kind)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    Py_ssize_t items;
    const char *fmt;
    if (PyObject_GetBuffer(obj, &arg->view, flags) < 0)
        return -1;
    arg->held = 1;
    fmt = arg->view.format ? arg->view.format : "B";
    if (*fmt == '<' || *fmt == '=' || *fmt == '@')
        fmt++;
    if (arg->view.itemsize != 8 || !(kind == 'd' ? strcmp(fmt, "d") == 0
                                                 : (strcmp(fmt, "q") == 0 || strcmp(fmt, "l") == 0))) {
        PyErr_Format(PyExc_TypeError, "%s: expected a contiguous array of %s", name,
                     kind == 'd' ? "float64" : "int64");
        return -1;
    }
    items = arg->view.len / 8;
    if ((count >= 0 && items != count) || (count < 0 && row > 0 && items % row != 0)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd values do not fit the expected shape", name, items);
        return -1;
    }
    return 0;
}

static void release(Arg *args, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (args[i].held)
            PyBuffer_Release(&args[i].view);
}

#define D_(i) ((double *)args[i].view.buf)

/* sweep_into(eta, q, dts, sigma, phi, gamma_T, tol, max_iter, mass0, weights, shift, start, start_piv, start_mult,
 *            start_outer, u, alpha, density, flow, iters, up, down, piv, mult, outer, last_mass) -> bool finite */
static PyObject *sweep_into(PyObject *self, PyObject *const *argv, Py_ssize_t argc)
{
    enum { ETA, Q, DTS, MASS0, WEIGHTS, START, SPIV, SMULT, SOUTER, U, ALPHA, DENSITY, FLOW, ITERS, UP, DOWN, PIV,
           MULT, OUTER, LAST, NARRAYS };
    static const int position[NARRAYS] = {0, 1, 2, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
    static const char *names[NARRAYS] = {"eta", "q", "dts", "mass0", "weights", "start", "start_piv", "start_mult",
                                         "start_outer", "u", "alpha", "density", "flow", "iters", "up", "down",
                                         "piv", "mult", "outer", "last_mass"};
    Arg args[NARRAYS];
    double sigma, phi, gamma_T, tol, shift, *geo = NULL, *work = NULL;
    long max_iter;
    Py_ssize_t nt, nx, i, s_rows, f_rows;
    int warm, reuse, keep_rates, finite = 1, result = -1;
    (void)self;
    memset(args, 0, sizeof(args));
    if (argc != 26) {
        PyErr_SetString(PyExc_TypeError, "sweep_into: expected 26 arguments");
        return NULL;
    }
    sigma = PyFloat_AsDouble(argv[3]);
    phi = PyFloat_AsDouble(argv[4]);
    gamma_T = PyFloat_AsDouble(argv[5]);
    tol = PyFloat_AsDouble(argv[6]);
    max_iter = PyLong_AsLong(argv[7]);
    shift = PyFloat_AsDouble(argv[10]);
    if (PyErr_Occurred())
        return NULL;
    /* sizes from eta and q, then every other array checked against them */
    if (get_array(argv[0], &args[ETA], "eta", -1, 0, 0, 'd') < 0 || get_array(argv[1], &args[Q], "q", -1, 0, 0, 'd') < 0)
        goto done;
    nt = args[ETA].view.len / 8 - 1;
    nx = args[Q].view.len / 8;
    if (nt < 0 || nx < 2) {
        PyErr_SetString(PyExc_ValueError, "sweep_into: expected at least one cost value and two nodes");
        goto done;
    }
    {
        const Py_ssize_t counts[NARRAYS] = {nt + 1, nx, nt, nx, nx, -1, -1, -1, -1, (nt + 1) * nx, (nt + 1) * nx,
                                            (nt + 1) * nx, nt + 1, nt, -1, -1, nt * nx,
                                            nt * (nx - 1), nt * nx, nx};
        const Py_ssize_t rows[NARRAYS] = {0, 0, 0, 0, 0, nx, nx, nx - 1, nx, 0, 0, 0, 0, 0, nx - 1, nx - 1, 0, 0, 0, 0};
        for (i = DTS; i < NARRAYS; i++)
            if (get_array(argv[position[i]], &args[i], names[i], counts[i], rows[i], i >= U, i == ITERS ? 'q' : 'd') < 0)
                goto done;
    }
    s_rows = args[START].view.len / 8 / nx;
    f_rows = args[SPIV].view.len / 8 / nx;
    if (args[SMULT].view.len / 8 != f_rows * (nx - 1) || args[SOUTER].view.len / 8 != f_rows * nx) {
        PyErr_SetString(PyExc_ValueError, "sweep_into: start factors of different lengths");
        goto done;
    }
    warm = s_rows >= nt;
    reuse = warm && f_rows >= nt;
    keep_rates = args[UP].view.len / 8 >= nt * (nx - 1) && args[DOWN].view.len / 8 >= nt * (nx - 1);
    geo = (double *)malloc(sizeof(double) * GEOMETRY_ROWS * nx);
    work = (double *)malloc(sizeof(double) * 8 * nx);
    if (!geo || !work) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const double *eta = D_(ETA), *q = D_(Q), *dts = D_(DTS), *mass0 = D_(MASS0), *weights = D_(WEIGHTS);
        const double *start = D_(START), *spiv = D_(SPIV), *smult = D_(SMULT), *souter = D_(SOUTER);
        double *u = D_(U), *alpha = D_(ALPHA), *density = D_(DENSITY), *flow = D_(FLOW), *up = D_(UP);
        double *down = D_(DOWN), *piv = D_(PIV), *mult = D_(MULT), *outer = D_(OUTER), *last = D_(LAST);
        int64_t *iters = (int64_t *)args[ITERS].view.buf;
        Py_BEGIN_ALLOW_THREADS
        finite = sweep_compute(nt, nx, eta, q, dts, sigma, phi, gamma_T, tol, max_iter, mass0, weights, shift, warm,
                               reuse, keep_rates, start, spiv, smult, souter, u, alpha, density, flow, iters, up, down, piv, mult,
                               outer, last, geo, work);
        Py_END_ALLOW_THREADS
    }
    result = 0;
done:
    release(args, NARRAYS);
    free(geo);
    free(work);
    if (result < 0)
        return NULL;
    return PyBool_FromLong(finite);
}

/* moment_recursions_into(eta, dts, phi, gamma_T, mean0, var0, sigma, h, rate, mean, var) */
static PyObject *moment_recursions_into(PyObject *self, PyObject *const *argv, Py_ssize_t argc)
{
    Arg args[6];
    static const int position[6] = {0, 1, 7, 8, 9, 10};
    static const char *names[6] = {"eta", "dts", "h", "rate", "mean", "var"};
    double phi, gamma_T, mean0, var0, sigma;
    Py_ssize_t nt, n, j;
    int result = -1;
    (void)self;
    memset(args, 0, sizeof(args));
    if (argc != 11) {
        PyErr_SetString(PyExc_TypeError, "moment_recursions_into: expected 11 arguments");
        return NULL;
    }
    phi = PyFloat_AsDouble(argv[2]);
    gamma_T = PyFloat_AsDouble(argv[3]);
    mean0 = PyFloat_AsDouble(argv[4]);
    var0 = PyFloat_AsDouble(argv[5]);
    sigma = PyFloat_AsDouble(argv[6]);
    if (PyErr_Occurred())
        return NULL;
    if (get_array(argv[0], &args[0], "eta", -1, 0, 0, 'd') < 0)
        goto done;
    nt = args[0].view.len / 8 - 1;
    if (nt < 0) {
        PyErr_SetString(PyExc_ValueError, "moment_recursions_into: expected at least one cost value");
        goto done;
    }
    for (j = 1; j < 6; j++)
        if (get_array(argv[position[j]], &args[j], names[j], j == 1 ? nt : nt + 1, 0, j >= 2, 'd') < 0)
            goto done;
    {
        const double *eta = D_(0), *dts = D_(1);
        double *h = D_(2), *rate = D_(3), *mean = D_(4), *var = D_(5);
        h[nt] = gamma_T;
        for (n = nt - 1; n >= 0; n--) {
            double r = dts[n] / eta[n];
            double c = h[n + 1] + dts[n] * phi;
            h[n] = 2.0 * c / (1.0 + sqrt(1.0 + 4.0 * r * c));
        }
        for (n = 0; n <= nt; n++)
            rate[n] = h[n] / eta[n];
        mean[0] = mean0;
        var[0] = var0;
        for (n = 0; n < nt; n++) {
            mean[n + 1] = mean[n] / (1.0 + dts[n] * rate[n]);
            var[n + 1] = (var[n] + sigma * sigma * dts[n]) / (1.0 + 2.0 * dts[n] * rate[n]);
        }
    }
    result = 0;
done:
    release(args, 6);
    if (result < 0)
        return NULL;
    Py_RETURN_NONE;
}

#undef D_

static PyMethodDef methods[] = {
    {"sweep_into", (PyCFunction)(void (*)(void))sweep_into, METH_FASTCALL,
     "One HJB/FP sweep into preallocated arrays (mfg_finance.mfg.sweep_kernel.sweep_into)."},
    {"moment_recursions_into", (PyCFunction)(void (*)(void))moment_recursions_into, METH_FASTCALL,
     "The LQ moment recursions into preallocated arrays (mfg_finance.mfg.sweep_kernel.moment_recursions_into)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_solve_kernels",
                                    "The MFG solve path's kernels, compiled at install (mfg_finance.mfg.kernels).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__solve_kernels(void) { return PyModule_Create(&module); }
