// The 32x32 -> 64-bit product as (hi, lo) with one 64-bit multiply, for devices with
// SHADER_INT64 (the backend picks it over mulhilo.wgsl there; `GALVANI_GPU_INT64=0`
// keeps the 16-bit halves). Twin of mulhilo.wgsl and of rng.rs mulhilo; the same bits.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let p = u64(a) * u64(b);
    return vec2<u32>(u32(p >> 32u), u32(p));
}
