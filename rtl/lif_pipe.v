// lif_pipe: one integer LIF time step in two pipeline stages, exactly icespike.fixed.lif_step
// (the same function as lif_update, with one cycle of latency and one carry chain per stage).
//
// Stage 1 (inputs -> registers):
//   leak        v1   = v - (v >>> LEAK_SHIFT)          floor shift; LEAK_SHIFT = 0: no leak
//   in parallel dcur = cur - threshold,  top = (2^(MEM_W-1) - 1) - threshold
// Stage 2 (registers -> outputs, two carry chains side by side):
//   sum = v1 + cur            (the contract's v1 + I before saturation, no overflow)
//   dt  = v1 + dcur           (= sum - threshold, exactly)
//   in range (sum fits MEM_W bits): v2 = sum, spike = (dt >= 0), v_next = spike ? dt : sum
//   sum > max:  v2 = max >= threshold, so spike = 1 and v_next = max - threshold (= top)
//   sum < min:  v2 = min < threshold,  so spike = 0 and v_next = min
// RESET_SUBTRACT = 0 replaces the reset value of a spike by 0. This is the contract's order
// (leak, saturating integrate, fire, reset: docs/arithmetic.md section 4); only the compare
// and the subtract reset are computed from the unsaturated sum, which gives the same result
// in all three cases above. threshold must lie in [1, 2^(MEM_W-1) - 1] and v in the signed
// MEM_W range. v_next and spike belong to the inputs of the previous clock edge with ce = 1.
//
// SPLIT = 1 (wide membranes): the input v is the membrane after the leak (v1; the caller leaks
// the membrane it stores, so the leak's carry chain sits behind its output register). Stage 1
// then holds the two carry chains, sum = v1 + cur and dt = v1 + cur - threshold (cur - threshold
// folded in by one level of 3:2 compression, dt modulo 2^(MEM_W+1): exact whenever the sum is
// in range, the only case that reads it), into registers; stage 2 is the saturation, spike and
// reset select alone. Same latency, same outputs for v1 = leak(v).
`default_nettype none

module lif_pipe #(
    parameter MEM_W          = 21,  // membrane width (signed, saturating)
    parameter CUR_W          = 19,  // input current width (signed)
    parameter LEAK_SHIFT     = 4,   // leak v >>> LEAK_SHIFT per step, 0 = no leak
    parameter RESET_SUBTRACT = 1,   // 1: subtract threshold on a spike, 0: reset to zero
    parameter SPLIT          = 0    // 1: v is already leaked; both carry chains in stage 1
) (
    input  wire                    clk,
    input  wire                    ce,         // stage-1 register enable
    input  wire signed [MEM_W-1:0] v,          // membrane before the step (SPLIT = 1: after the leak)
    input  wire signed [CUR_W-1:0] cur,        // input current of this step
    input  wire        [MEM_W-1:0] threshold,  // unsigned, 1 .. 2^(MEM_W-1) - 1
    output wire signed [MEM_W-1:0] v_next,     // membrane after the step (one cycle later)
    output wire                    spike
);

    localparam S_W = (CUR_W > MEM_W ? CUR_W : MEM_W) + 1;  // v1 + cur, cur - threshold

    wire signed [S_W-1:0]   cur_ext = {{(S_W - CUR_W){cur[CUR_W-1]}}, cur};
    wire signed [S_W-1:0]   th_ext  = {{(S_W - MEM_W){1'b0}}, threshold};
    wire        [MEM_W-1:0] vmax    = {1'b0, {(MEM_W - 1){1'b1}}};
    reg         [MEM_W-1:0] top_q;
    always @(posedge clk)
        if (ce) top_q  <= vmax - threshold;

    wire signed [S_W-1:0] sum;      // v1 + cur
    wire                  dt_neg;   // v1 + cur - threshold < 0 (read only when sum is in range)
    wire [MEM_W-1:0]      dt_lo;    // its low MEM_W bits
    generate
        if (SPLIT == 0) begin : g_two
            // ---------------------------------------------------- stage 1
            localparam D_W = S_W + 1;   // v1 + (cur - threshold)
            wire signed [MEM_W-1:0] v1;
            if (LEAK_SHIFT == 0) begin : g_no_leak
                assign v1 = v;
            end else begin : g_leak
                assign v1 = v - (v >>> LEAK_SHIFT);  // between v and 0: stays in MEM_W bits
            end

            reg  signed [MEM_W-1:0] v1_q;
            reg  signed [S_W-1:0]   cur_q, dcur_q;
            always @(posedge clk)
                if (ce) begin
                    v1_q   <= v1;
                    cur_q  <= cur_ext;
                    dcur_q <= cur_ext - th_ext;
                end

            // ---------------------------------------------------- stage 2
            assign sum = {{(S_W - MEM_W){v1_q[MEM_W-1]}}, v1_q} + cur_q;
            wire signed [D_W-1:0] dt = {{(D_W - MEM_W){v1_q[MEM_W-1]}}, v1_q}
                                     + {dcur_q[S_W-1], dcur_q};
            assign dt_neg = dt[D_W-1];
            assign dt_lo  = dt[MEM_W-1:0];
        end else begin : g_split
            // ---------------------------------------------------- stage 1: both chains
            localparam E_W = MEM_W + 1;   // dt modulo 2^E_W: in range, dt lies in [-2^MEM_W + 1, 2^(MEM_W-1) - 2]
            wire [S_W-1:0] v_ext = {{(S_W - MEM_W){v[MEM_W-1]}}, v};
            wire [E_W-1:0] a     = v_ext[E_W-1:0];
            wire [E_W-1:0] b     = cur_ext[E_W-1:0];
            wire [E_W-1:0] c     = ~th_ext[E_W-1:0] + {{(E_W - 1){1'b0}}, 1'b1};   // -threshold (a constant)
            wire [E_W-1:0] x     = a ^ b ^ c;                                   // 3:2 compression
            wire [E_W-1:0] y     = (a & b) | (a & c) | (b & c);
            reg  [S_W-1:0] sum_q;
            reg  [E_W-1:0] dt_q;
            always @(posedge clk)
                if (ce) begin
                    sum_q <= v_ext + cur_ext;
                    dt_q  <= x + {y[E_W-2:0], 1'b0};
                end
            // ---------------------------------------------------- stage 2: the select
            assign sum    = sum_q;
            assign dt_neg = dt_q[E_W-1];
            assign dt_lo  = dt_q[MEM_W-1:0];
            wire unused_split = &{y[E_W-1], th_ext, 1'b0};
        end
    endgenerate

    wire in_range = (sum[S_W-1:MEM_W-1] == {(S_W - MEM_W + 1){1'b0}})
                  | (sum[S_W-1:MEM_W-1] == {(S_W - MEM_W + 1){1'b1}});
    wire neg      = sum[S_W-1];

    assign spike = in_range ? ~dt_neg : ~neg;
    wire [MEM_W-1:0] fire_v = (RESET_SUBTRACT != 0) ? dt_lo : {MEM_W{1'b0}};
    wire [MEM_W-1:0] sat_v  = neg ? {1'b1, {(MEM_W - 1){1'b0}}}
                                  : ((RESET_SUBTRACT != 0) ? top_q : {MEM_W{1'b0}});
    assign v_next = ~in_range ? sat_v : (spike ? fire_v : sum[MEM_W-1:0]);

endmodule

`default_nettype wire
