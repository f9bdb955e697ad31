// Properties of lif_update (combinational) and lif_pipe (two stages): lif_update equals the
// contract's LIF step written with wide integers (leak by floor shift, integrate, clamp to
// MEM_W, fire on v2 >= threshold, subtract or zero reset); lif_pipe's outputs equal
// lif_update of the inputs it took one cycle earlier (ce = 1), and so do those of lif_pipe
// with SPLIT = 1 fed the leaked membrane (the spec's v1). Threshold in [1, 2^(MEM_W-1)-1],
// v in the signed MEM_W range (the documented input ranges).
`default_nettype none

module lif_props #(
    parameter MEM_W          = 5,
    parameter CUR_W          = 4,
    parameter LEAK_SHIFT     = 1,
    parameter RESET_SUBTRACT = 1
) (
    input wire                    clk,
    input wire                    ce,
    input wire signed [MEM_W-1:0] v,
    input wire signed [CUR_W-1:0] cur,
    input wire        [MEM_W-1:0] threshold
);
    wire signed [MEM_W-1:0] u_v_next, p_v_next, s_v_next;
    wire                    u_spike, p_spike, s_spike;
    wire signed [MEM_W-1:0] v_lk;   // the leaked membrane (the spec's v1, below)
    lif_update #(.MEM_W(MEM_W), .CUR_W(CUR_W), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT))
        u_upd (.v(v), .cur(cur), .threshold(threshold), .v_next(u_v_next), .spike(u_spike));
    lif_pipe #(.MEM_W(MEM_W), .CUR_W(CUR_W), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT))
        u_pipe (.clk(clk), .ce(ce), .v(v), .cur(cur), .threshold(threshold), .v_next(p_v_next), .spike(p_spike));
    lif_pipe #(.MEM_W(MEM_W), .CUR_W(CUR_W), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT), .SPLIT(1))
        u_split (.clk(clk), .ce(ce), .v(v_lk), .cur(cur), .threshold(threshold), .v_next(s_v_next), .spike(s_spike));

`ifdef FORMAL
    localparam RW = MEM_W + CUR_W + 2;
    localparam signed [RW-1:0] VMAX = (1 <<< (MEM_W - 1)) - 1;
    localparam signed [RW-1:0] VMIN = -(1 <<< (MEM_W - 1));
    wire signed [RW-1:0] vw   = {{(RW - MEM_W){v[MEM_W-1]}}, v};
    wire signed [RW-1:0] cw   = {{(RW - CUR_W){cur[CUR_W-1]}}, cur};
    wire signed [RW-1:0] thw  = {{(RW - MEM_W){1'b0}}, threshold};
    // floor(v / 2^k) by division: -(-v + 2^k - 1) / 2^k for negative v (no shift operator here)
    wire signed [RW-1:0] pow  = 1 <<< LEAK_SHIFT;
    wire signed [RW-1:0] fl   = (vw >= 0) ? vw / pow : -((-vw + pow - 1) / pow);
    wire signed [RW-1:0] v1   = (LEAK_SHIFT == 0) ? vw : vw - fl;
    assign v_lk = v1[MEM_W-1:0];   // v1 lies between v and 0: MEM_W bits hold it
    wire signed [RW-1:0] s    = v1 + cw;
    wire signed [RW-1:0] v2   = (s > VMAX) ? VMAX : (s < VMIN) ? VMIN : s;
    wire                 fire = v2 >= thw;
    wire signed [RW-1:0] vn   = !fire ? v2 : (RESET_SUBTRACT != 0) ? v2 - thw : {RW{1'b0}};
    wire th_ok = threshold != {MEM_W{1'b0}} && !threshold[MEM_W-1];

    always @(*) begin
        assume (th_ok);
        assert (u_spike == fire);
        assert (u_v_next == vn[MEM_W-1:0]);
    end

    // lif_pipe: outputs belong to the inputs of the last edge with ce = 1
    reg                    f_had = 1'b0;
    reg signed [MEM_W-1:0] f_v_next;
    reg                    f_spike;
    always @(posedge clk)
        if (ce) begin
            f_had    <= 1'b1;
            f_v_next <= u_v_next;
            f_spike  <= u_spike;
        end
    always @(*)
        if (f_had) begin
            assert (p_spike == f_spike);
            assert (p_v_next == f_v_next);
            assert (s_spike == f_spike);
            assert (s_v_next == f_v_next);
        end

    always @(*) begin
        cover (s > VMAX);               // saturates high
        cover (s < VMIN);               // saturates low
        cover (v2 == thw);              // fires on the threshold exactly
        cover (f_had && p_spike && p_v_next == VMAX[MEM_W-1:0] - threshold);
    end
`endif
endmodule

`default_nettype wire
