// orthogonal(gain): QR of an m x n matrix M (m >= n) in f32 by block CGS2 — classical
// Gram-Schmidt with reorthogonalization, by panels of PANEL columns. The host
// (src/gpu/orthogonal.rs, which also says why this algorithm) records, in one compute pass:
//   load                   dst (the row-major normal tensor) -> v (M column-major)
//   for each panel [k0, k0 + width):
//     once for the first panel, twice for the others {
//       block_project [block_combine] block_update     (panel -= Q[:, :k0] Q[:, :k0]^T panel)
//       for j in panel: if j > k0 { twice { project [combine] update } }  normalize(j)
//     }
//   store                  qt or v -> dst, times gain
// The positive norm divided out in normalize is R's diagonal, so Q needs no sign fix.
//
// Layout, in vec4 units so that every invocation works on a 4 x 4 tile (lavapipe turns each
// storage access into per-lane loads, so loads, not flops, set the speed):
//   v:  column k of M (or of Q once finished) at v[k*m4 .. (k+1)*m4], rows padded with zeros to
//       4*m4; 4*n4 columns (those past n are zero and never used with a non-zero coefficient).
//   qt: finished columns again, row-major: row i at qt[i*n4 .. (i+1)*n4]; 4*m4 rows.
//   h:  `parts` partial coefficient vectors of n4 vec4 each; combine sums them into part 0.
//   hb: `parts` partial PANEL x n4 coefficient blocks of the panel step; block_combine sums them.
// project and block_project read qt (contiguous across invocations along k), update and
// block_update read v (contiguous across invocations along rows); the other operand is the same
// for the whole workgroup. None of them needs a barrier or a gather.

struct Params {
    m: u32,         // rows of M (max(rows, cols))
    n: u32,         // columns of M (min(rows, cols))
    j: u32,         // the column being orthogonalized (project, combine, update, normalize)
    lead: u32,      // index in `dst` of the tensor's element 0
    transpose: u32, // 1 when rows >= cols: dst is M row-major (load) and Q row-major (store)
    gain: f32,
    parts: u32,     // row chunks of the partial dot products in project
    m4: u32,        // ceil(m / 4)
    n4: u32,        // ceil(n / 4)
    k0: u32,        // first column of the panel holding j (a multiple of PANEL)
    width: u32,     // that panel's number of columns, min(PANEL, n - k0)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> h: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> qt: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> hb: array<vec4<f32>>;

const COPY_WG: u32 = 256u;
const DOT_WG: u32 = 64u;
const UPDATE_WG: u32 = 64u;
const NORM_WG: u32 = 256u;
// project sums each chunk in blocks of BLOCK4 vec4 rows (32 rows), then adds the blocks.
const BLOCK4: u32 = 8u;
// Columns per panel of the block algorithm; must match PANEL in src/gpu/orthogonal.rs.
const PANEL: u32 = 32u;
const TILE_WG: u32 = 64u;

var<workgroup> partial: array<f32, NORM_WG>;

@compute @workgroup_size(COPY_WG)
fn load(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let m = params.m;
    let n = params.n;
    let total = 4u * params.n4 * params.m4;
    for (var e = gid.x; e < total; e += groups.x * COPY_WG) {
        let c = e / params.m4;
        let i4 = e - c * params.m4;
        var x = vec4<f32>(0.0);
        for (var r = 0u; r < 4u; r++) {
            let i = 4u * i4 + r;
            if i < m && c < n {
                // M = A (tall, A row-major m x n) or A^T (wide, A row-major n x m).
                x[r] = dst[params.lead + select(c * m + i, i * n + c, params.transpose == 1u)];
            }
        }
        v[e] = x;
    }
}

// The tensor is Q (tall: row-major, from qt) or Q^T (wide: Q column-major, from v), times gain.
@compute @workgroup_size(COPY_WG)
fn store(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let m = params.m;
    let n = params.n;
    let total = m * n;
    for (var e = gid.x; e < total; e += groups.x * COPY_WG) {
        var q: f32;
        if params.transpose == 1u {
            let i = e / n;
            let c = e - i * n;
            q = qt[i * params.n4 + c / 4u][c % 4u];
        } else {
            let c = e / m;
            let i = e - c * m;
            q = v[c * params.m4 + i / 4u][i % 4u];
        }
        dst[params.lead + e] = params.gain * q;
    }
}

// Partial coefficients h[p][k] = <q_k, w> over row chunk p, w = column j, for the four columns
// k = 4*k4 .. 4*k4+3 of invocation k4 (x; from the panel's first column k0); workgroup y is the
// chunk. Coefficients of columns
// k >= j are written as exactly 0. The order of the sums depends only on m and n.
@compute @workgroup_size(DOT_WG)
fn project(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let k4 = params.k0 / 4u + gid.x;
    let n4 = params.n4;
    if k4 >= (params.j + 3u) / 4u {
        return;
    }
    let rows4 = (params.m4 + params.parts - 1u) / params.parts;
    let start = wg.y * rows4;
    let end = min(start + rows4, params.m4);
    let w = params.j * params.m4;
    var total = vec4<f32>(0.0);
    var i4 = start;
    while i4 < end {
        let stop = min(i4 + BLOCK4, end);
        var sum = vec4<f32>(0.0);
        for (; i4 < stop; i4++) {
            let x = v[w + i4];
            let row = 4u * i4 * n4 + k4;
            sum += qt[row] * x.x + qt[row + n4] * x.y + qt[row + 2u * n4] * x.z
                + qt[row + 3u * n4] * x.w;
        }
        total += sum;
    }
    let k = vec4<u32>(4u * k4) + vec4<u32>(0u, 1u, 2u, 3u);
    h[wg.y * n4 + k4] = select(vec4<f32>(0.0), total, k < vec4<u32>(params.j));
}

// h[0] += h[1] + ... + h[parts - 1], in that order (recorded only when parts > 1).
@compute @workgroup_size(DOT_WG)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>) {
    let k4 = params.k0 / 4u + gid.x;
    if k4 >= (params.j + 3u) / 4u {
        return;
    }
    var sum = h[k4];
    for (var p = 1u; p < params.parts; p++) {
        sum += h[p * params.n4 + k4];
    }
    h[k4] = sum;
}

// w -= Q[:, k0:j] h for the four rows 4*i4 .. 4*i4+3 of invocation i4. Columns j .. 4*ceil(j/4)-1
// are read but have coefficient 0.
@compute @workgroup_size(UPDATE_WG)
fn update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let m4 = params.m4;
    let groups4 = (params.j + 3u) / 4u;
    for (var i4 = gid.x; i4 < m4; i4 += groups.x * UPDATE_WG) {
        var acc = vec4<f32>(0.0);
        for (var k4 = params.k0 / 4u; k4 < groups4; k4++) {
            let c = h[k4];
            let col = 4u * k4 * m4 + i4;
            acc += v[col] * c.x + v[col + m4] * c.y + v[col + 2u * m4] * c.z + v[col + 3u * m4] * c.w;
        }
        v[params.j * m4 + i4] -= acc;
    }
}

// Column j /= its norm, in one workgroup, and copied into qt. A zero column stays zero
// (torch.sign(0) = 0).
@compute @workgroup_size(NORM_WG)
fn normalize(@builtin(local_invocation_index) lid: u32) {
    let m4 = params.m4;
    let w = params.j * m4;
    var sum = 0.0;
    for (var i4 = lid; i4 < m4; i4 += NORM_WG) {
        let x = v[w + i4];
        sum += dot(x, x);
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = NORM_WG / 2u; stride > 0u; stride /= 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let s = partial[0];
    // One Newton step makes the norm accurate to about an ulp whatever the device's sqrt.
    var r = sqrt(s);
    r = 0.5 * (r + s / r);
    let scale = select(0.0, 1.0 / r, s > 0.0);
    let k4 = params.j / 4u;
    let lane = params.j % 4u;
    for (var i4 = lid; i4 < m4; i4 += NORM_WG) {
        let q = v[w + i4] * scale;
        v[w + i4] = q;
        for (var row = 0u; row < 4u; row++) {
            qt[(4u * i4 + row) * params.n4 + k4][lane] = q[row];
        }
    }
}

// The block step of BCGS2 for the panel W = columns k0 .. k0+width of M, against the finished
// columns Q = 0 .. k0: hb[p] = Q^T W over row chunk p (block_project), summed over chunks
// (block_combine), then W -= Q hb (block_update). hb[p][c][k4] holds the coefficients of panel
// column k0 + c against columns 4*k4 .. 4*k4+3. Each invocation works on a 4 x 4 tile: four
// columns of Q (or four rows) by four panel columns, so every vec4 loaded is used four times.

@compute @workgroup_size(TILE_WG)
fn block_project(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let k4 = gid.x;
    let c4 = wg.y;
    let m4 = params.m4;
    let n4 = params.n4;
    if k4 >= params.k0 / 4u || 4u * c4 >= params.width {
        return;
    }
    let rows4 = (m4 + params.parts - 1u) / params.parts;
    let start = wg.z * rows4;
    let end = min(start + rows4, m4);
    let col = (params.k0 + 4u * c4) * m4;
    var t0 = vec4<f32>(0.0);
    var t1 = vec4<f32>(0.0);
    var t2 = vec4<f32>(0.0);
    var t3 = vec4<f32>(0.0);
    for (var i4 = start; i4 < end; i4++) {
        let row = 4u * i4 * n4 + k4;
        let q0 = qt[row];
        let q1 = qt[row + n4];
        let q2 = qt[row + 2u * n4];
        let q3 = qt[row + 3u * n4];
        let w0 = v[col + i4];
        t0 += q0 * w0.x + q1 * w0.y + q2 * w0.z + q3 * w0.w;
        let w1 = v[col + m4 + i4];
        t1 += q0 * w1.x + q1 * w1.y + q2 * w1.z + q3 * w1.w;
        let w2 = v[col + 2u * m4 + i4];
        t2 += q0 * w2.x + q1 * w2.y + q2 * w2.z + q3 * w2.w;
        let w3 = v[col + 3u * m4 + i4];
        t3 += q0 * w3.x + q1 * w3.y + q2 * w3.z + q3 * w3.w;
    }
    let out = (wg.z * PANEL + 4u * c4) * n4 + k4;
    hb[out] = t0;
    hb[out + n4] = t1;
    hb[out + 2u * n4] = t2;
    hb[out + 3u * n4] = t3;
}

// hb[0] += hb[1] + ... + hb[parts - 1] for panel column y (recorded only when parts > 1).
@compute @workgroup_size(DOT_WG)
fn block_combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let k4 = gid.x;
    if k4 >= params.k0 / 4u {
        return;
    }
    let at = wg.y * params.n4 + k4;
    var sum = hb[at];
    for (var p = 1u; p < params.parts; p++) {
        sum += hb[p * PANEL * params.n4 + at];
    }
    hb[at] = sum;
}

@compute @workgroup_size(TILE_WG)
fn block_update(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let c4 = wg.y;
    let m4 = params.m4;
    let n4 = params.n4;
    if 4u * c4 >= params.width {
        return;
    }
    let h = 4u * c4 * n4;
    let out = (params.k0 + 4u * c4) * m4;
    for (var i4 = gid.x; i4 < m4; i4 += groups.x * TILE_WG) {
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        for (var k4 = 0u; k4 < params.k0 / 4u; k4++) {
            let col = 4u * k4 * m4 + i4;
            let v0 = v[col];
            let v1 = v[col + m4];
            let v2 = v[col + 2u * m4];
            let v3 = v[col + 3u * m4];
            let h0 = hb[h + k4];
            a0 += v0 * h0.x + v1 * h0.y + v2 * h0.z + v3 * h0.w;
            let h1 = hb[h + n4 + k4];
            a1 += v0 * h1.x + v1 * h1.y + v2 * h1.z + v3 * h1.w;
            let h2 = hb[h + 2u * n4 + k4];
            a2 += v0 * h2.x + v1 * h2.y + v2 * h2.z + v3 * h2.w;
            let h3 = hb[h + 3u * n4 + k4];
            a3 += v0 * h3.x + v1 * h3.y + v2 * h3.z + v3 * h3.w;
        }
        v[out + i4] -= a0;
        v[out + m4 + i4] -= a1;
        v[out + 2u * m4 + i4] -= a2;
        v[out + 3u * m4 + i4] -= a3;
    }
}
