// lif_update: one integer LIF time step (combinational), exactly icespike.fixed.lif_step.
//
// In the contract's order (docs/arithmetic.md section 4):
//   1. leak:      v1 = v - (v >>> LEAK_SHIFT)       floor shift; LEAK_SHIFT = 0: no leak
//   2. integrate: v2 = saturate(v1 + cur, MEM_W)     clamps, never wraps
//   3. fire:      spike = (v2 >= threshold)
//   4. reset:     RESET_SUBTRACT = 1: v_next = v2 - threshold on a spike
//                 RESET_SUBTRACT = 0: v_next = 0 on a spike
// One subtractor v2 - threshold (MEM_W + 1 bits) gives both the compare (its sign) and
// the subtract reset. threshold must lie in [1, 2^(MEM_W-1) - 1] (the contract's range);
// outside it the result is unspecified. v must lie in the signed MEM_W range (it does).
`default_nettype none

module lif_update #(
    parameter MEM_W          = 21,  // membrane width (signed, saturating)
    parameter CUR_W          = 19,  // input current width (signed)
    parameter LEAK_SHIFT     = 4,   // leak v >>> LEAK_SHIFT per step, 0 = no leak
    parameter RESET_SUBTRACT = 1    // 1: subtract threshold on a spike, 0: reset to zero
) (
    input  wire signed [MEM_W-1:0] v,          // membrane before the step
    input  wire signed [CUR_W-1:0] cur,        // input current of this step
    input  wire        [MEM_W-1:0] threshold,  // unsigned, 1 .. 2^(MEM_W-1) - 1
    output wire signed [MEM_W-1:0] v_next,     // membrane after the step
    output wire                    spike
);

    localparam S_W = (CUR_W > MEM_W ? CUR_W : MEM_W) + 1;  // v1 + cur without overflow

    // 1. leak: between v and 0, so it stays in MEM_W bits.
    wire signed [MEM_W-1:0] v1;
    generate
        if (LEAK_SHIFT == 0) begin : g_no_leak
            assign v1 = v;
        end else begin : g_leak
            assign v1 = v - (v >>> LEAK_SHIFT);
        end
    endgenerate

    // 2. integrate and saturate.
    wire signed [S_W-1:0] v1_ext  = {{(S_W - MEM_W){v1[MEM_W-1]}}, v1};
    wire signed [S_W-1:0] cur_ext = {{(S_W - CUR_W){cur[CUR_W-1]}}, cur};
    wire signed [S_W-1:0] sum     = v1_ext + cur_ext;
    wire in_range = (sum[S_W-1:MEM_W-1] == {(S_W - MEM_W + 1){1'b0}})
                  | (sum[S_W-1:MEM_W-1] == {(S_W - MEM_W + 1){1'b1}});
    wire signed [MEM_W-1:0] v2;
    assign v2 = in_range ? sum[MEM_W-1:0] : {sum[S_W-1], {(MEM_W - 1){~sum[S_W-1]}}};

    // 3. fire: v2 - threshold >= 0, one guard bit (v2 signed, threshold unsigned).
    wire signed [MEM_W:0] diff = {v2[MEM_W-1], v2} - {1'b0, threshold};
    assign spike = ~diff[MEM_W];

    // 4. reset. With 0 < threshold <= v2 the difference fits MEM_W bits.
    generate
        if (RESET_SUBTRACT != 0) begin : g_reset_subtract
            assign v_next = spike ? diff[MEM_W-1:0] : v2;
        end else begin : g_reset_zero
            assign v_next = spike ? {MEM_W{1'b0}} : v2;
        end
    endgenerate

endmodule

`default_nettype wire
