/* Candidates of candidate-first rules: maximal runs of one byte class, kept by length and by which
 * character features they hold, for several shapes of the same class in one pass.
 *
 * The pure-Python twin is scanner/engine/runs.py (_find_python); both must return identical lists, and
 * tests/engine/test_runs.py checks that on generated inputs. Hyperscan's bounded-repeat engines scan
 * these patterns at ~500 MB/s on source code; this skips ahead by the shortest length (a byte outside
 * the class in the window rules out every run starting before it), reading about half the bytes once.
 *
 * find(data, table, shapes) -> [[(start, end), ...] per shape]
 *   table:  256 bytes; bit 0 = in the class, bits 1-7 = features (e.g. hex, an upper-case letter)
 *   shapes: tuple of (lengths, all_mask, any_mask, not_all_mask); lengths[L] != 0 keeps runs of length L.
 *   A run is kept for a shape when its length is allowed, every byte has all of all_mask, the run's bytes
 *   together have every bit of any_mask, and no bit of not_all_mask is held by every byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    Py_buffer lengths;
    unsigned all, any, not_all;
} Shape;

static int parse_shapes(PyObject *seq, Shape **out, Py_ssize_t *count) {
    PyObject *fast = PySequence_Fast(seq, "shapes must be a sequence");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast), i;
    Shape *shapes = PyMem_Calloc(n ? n : 1, sizeof(Shape));
    if (!shapes) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (i = 0; i < n; i++) {
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "y*III;a shape is (lengths, all, any, not_all)",
                              &shapes[i].lengths, &shapes[i].all, &shapes[i].any, &shapes[i].not_all)) {
            while (i-- > 0) PyBuffer_Release(&shapes[i].lengths);
            PyMem_Free(shapes);
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    *out = shapes;
    *count = n;
    return 0;
}

static PyObject *find(PyObject *self, PyObject *args) {
    Py_buffer data, table;
    PyObject *shape_seq, *result = NULL;
    Shape *shapes = NULL;
    Py_ssize_t count = 0, s;
    if (!PyArg_ParseTuple(args, "y*y*O", &data, &table, &shape_seq)) return NULL;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "table must be 256 bytes");
        goto done;
    }
    if (parse_shapes(shape_seq, &shapes, &count) < 0) goto done;
    result = PyList_New(count);
    if (!result) goto done;
    Py_ssize_t lo = PY_SSIZE_T_MAX, hi = 0;
    int masks = 0;
    for (s = 0; s < count; s++) {
        PyObject *list = PyList_New(0);
        if (!list) goto fail;
        PyList_SET_ITEM(result, s, list);
        const unsigned char *lengths = shapes[s].lengths.buf;
        Py_ssize_t k;
        for (k = 1; k < shapes[s].lengths.len; k++) {
            if (lengths[k]) {
                if (k < lo) lo = k;
                if (k > hi) hi = k;
            }
        }
        masks |= (shapes[s].all | shapes[s].any | shapes[s].not_all) != 0;
    }
    if (hi == 0) goto done;  /* no shape keeps any length */
    const unsigned char *d = data.buf, *t = table.buf;
    Py_ssize_t n = data.len, i = 0;
    /* invariant: i == 0 or d[i - 1] is outside the class, so a run of the class at i starts at i */
    while (i + lo <= n) {
        Py_ssize_t k = i + lo - 1;
        while (k >= i && (t[d[k]] & 1)) k--;
        if (k >= i) {  /* d[k] is outside: no run of the shortest length starts in [i, k] */
            i = k + 1;
            continue;
        }
        Py_ssize_t e = i + lo;
        while (e < n && (t[d[e]] & 1)) e++;
        Py_ssize_t len = e - i;
        if (len <= hi) {
            unsigned all = 0xff, any = 0;
            if (masks) {
                Py_ssize_t p;
                for (p = i; p < e; p++) {
                    all &= t[d[p]];
                    any |= t[d[p]];
                }
            }
            for (s = 0; s < count; s++) {
                const Shape *sh = &shapes[s];
                if (len >= sh->lengths.len || !((const unsigned char *)sh->lengths.buf)[len]) continue;
                if ((all & sh->all) != sh->all || (any & sh->any) != sh->any) continue;
                if (all & sh->not_all) continue;
                PyObject *span = Py_BuildValue("(nn)", i, e);
                if (!span) goto fail;
                int bad = PyList_Append(PyList_GET_ITEM(result, s), span);
                Py_DECREF(span);
                if (bad < 0) goto fail;
            }
        }
        i = e + 1;  /* d[e] is outside the class (or the end) */
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    if (shapes) {
        for (s = 0; s < count; s++) PyBuffer_Release(&shapes[s].lengths);
        PyMem_Free(shapes);
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    return result;
}

static PyMethodDef methods[] = {
    {"find", find, METH_VARARGS, "find(data, table, shapes) -> [[(start, end), ...] per shape]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_runs", "Maximal runs of a byte class (C).", -1, methods};

PyMODINIT_FUNC PyInit__runs(void) { return PyModule_Create(&module); }
