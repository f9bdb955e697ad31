// mac: stream multiply-accumulate, acc = saturate(acc + round_half_up_shift(a * b, SHIFT), ACC_W).
//
// Reference: icespike.fixed.mac (docs/arithmetic.md section 7). Each accepted beat
// multiplies s_a by s_b; the product is divided by 2^SHIFT rounding half up,
// (p + 2^(SHIFT-1)) >>> SHIFT (ties toward plus infinity: -2.5 -> -2), added to the
// accumulator and clamped to the signed ACC_W range (never wraps). The beat with s_last
// closes the packet: the accumulator including that beat appears on m_acc with m_valid
// (held until m_ready) and the accumulator starts again from 0.
//
// Pipeline: stage 1 is the product register (mul_s: no reset, its own stage, so yosys
// packs it into an SB_MAC16 with -dsp on UP5K); stage 2 rounds, adds and saturates into
// the accumulator; the result register follows. A packet's result is valid two cycles
// after its last beat. Back-pressure: a product that closes a packet waits in stage 1
// while a previous result waits on m_ready; s_ready = stage 1 empty or moving.
// rst (synchronous, active high) drops the packet in progress and any waiting result.
`default_nettype none

module mac #(
    parameter A_W      = 16,  // width of s_a
    parameter A_SIGNED = 1,   // 1: s_a is two's complement, 0: unsigned (e.g. 8-bit pixels)
    parameter B_W      = 16,  // width of s_b (signed weight code)
    parameter SHIFT    = 8,   // product right shift, rounding half up (0 = exact product)
    parameter ACC_W    = 16,  // accumulator / result width (signed)
    parameter SATURATE = 1    // 1: clamp to ACC_W (the contract's mac); 0: the caller proved
                              // ACC_W wide enough (the result wraps, saves the clamp logic)
) (
    input  wire                    clk,
    input  wire                    rst,
    // input beats
    input  wire                    s_valid,
    output wire                    s_ready,
    input  wire [A_W-1:0]          s_a,
    input  wire signed [B_W-1:0]   s_b,
    input  wire                    s_last,
    // packet results
    output wire                    m_valid,
    input  wire                    m_ready,
    output wire signed [ACC_W-1:0] m_acc
);

    localparam P_W   = A_W + B_W;                 // exact product width
    localparam R_W   = (SHIFT == 0) ? P_W : P_W + 1 - SHIFT;  // rounded product width
    localparam SUM_W = SATURATE ? ((R_W > ACC_W ? R_W : ACC_W) + 1) : ACC_W;

    // ---------------------------------------------------------------- stage 1: product
    reg                  p_valid_q;
    reg                  p_last_q;
    wire signed [P_W-1:0] p;

    wire fire   = s_valid & s_ready;
    // A product moves on unless it closes a packet while the result register is full.
    wire p_ready = ~p_last_q | ~m_valid_q | m_ready;
    wire p_fire  = p_valid_q & p_ready;
    assign s_ready = ~p_valid_q | p_ready;

    mul_s #(.A_W(A_W), .A_SIGNED(A_SIGNED), .B_W(B_W)) u_mul (
        .clk(clk),
        .ce (fire),
        .a  (s_a),
        .b  (s_b),
        .p  (p)
    );

    always @(posedge clk) begin
        if (rst) begin
            p_valid_q <= 1'b0;
        end else if (s_ready) begin
            p_valid_q <= s_valid;
        end
    end

    always @(posedge clk) begin
        if (fire) p_last_q <= s_last;
    end

    // ---------------------------------------------------------------- stage 2: round, add, clamp
    // round_half_up_shift(p, SHIFT) = (p + 2^(SHIFT-1)) >>> SHIFT = (p >>> SHIFT) + p[SHIFT-1]:
    // adding the half only changes the kept bits through the carry out of bit SHIFT-1, which
    // is p[SHIFT-1]. So the rounding costs no adder: p[SHIFT-1] is the carry-in of the
    // accumulator's adder (one carry chain for round + accumulate).
    wire signed [R_W-1:0] r_floor;  // p >>> SHIFT, one guard bit for the rounding carry
    wire                  r_carry;  // the rounding increment

    generate
        if (SHIFT == 0) begin : g_exact
            assign r_floor = p;
            assign r_carry = 1'b0;
        end else begin : g_round
            assign r_floor = {p[P_W-1], p[P_W-1:SHIFT]};
            assign r_carry = p[SHIFT-1];
            if (SHIFT > 1) begin : g_low
                wire unused_low = ^p[SHIFT-2:0];
            end
        end
    endgenerate

    reg                    m_valid_q;
    reg signed [ACC_W-1:0] m_acc_q;
    reg signed [ACC_W-1:0] acc_q;
    wire signed [ACC_W-1:0] acc_d;

    generate
        if (SATURATE != 0) begin : g_sat
            wire signed [SUM_W-1:0] acc_ext = {{(SUM_W - ACC_W){acc_q[ACC_W-1]}}, acc_q};
            wire signed [SUM_W-1:0] r_ext   = {{(SUM_W - R_W){r_floor[R_W-1]}}, r_floor};
            wire signed [SUM_W-1:0] sum     = acc_ext + r_ext + {{(SUM_W - 1){1'b0}}, r_carry};
            wire in_range = (sum[SUM_W-1:ACC_W-1] == {(SUM_W - ACC_W + 1){1'b0}})
                          | (sum[SUM_W-1:ACC_W-1] == {(SUM_W - ACC_W + 1){1'b1}});
            assign acc_d = in_range ? sum[ACC_W-1:0]
                                    : {sum[SUM_W-1], {(ACC_W - 1){~sum[SUM_W-1]}}};
        end else begin : g_wrap
            wire signed [ACC_W-1:0] r_ext = {{(ACC_W - R_W){r_floor[R_W-1]}}, r_floor};
            assign acc_d = acc_q + r_ext + {{(ACC_W - 1){1'b0}}, r_carry};
        end
    endgenerate

    assign m_valid = m_valid_q;
    assign m_acc   = m_acc_q;

    always @(posedge clk) begin
        if (rst) begin
            m_valid_q <= 1'b0;
            acc_q     <= {ACC_W{1'b0}};
        end else begin
            if (m_ready) m_valid_q <= 1'b0;
            if (p_fire) begin
                acc_q <= p_last_q ? {ACC_W{1'b0}} : acc_d;
                if (p_last_q) m_valid_q <= 1'b1;
            end
        end
    end

    // Result register: datapath, no reset (qualified by m_valid).
    always @(posedge clk) begin
        if (p_fire & p_last_q) m_acc_q <= acc_d;
    end

`ifndef SYNTHESIS
    initial begin
        if (SHIFT < 0 || SHIFT >= P_W) begin
            $display("mac: ERROR: SHIFT must be in [0, A_W + B_W) (SHIFT=%0d)", SHIFT);
            $finish;
        end
        if (SATURATE == 0 && R_W >= ACC_W) begin
            $display("mac: ERROR: SATURATE=0 needs ACC_W > rounded product width %0d (ACC_W=%0d)",
                     R_W, ACC_W);
            $finish;
        end
    end
`endif

endmodule

`default_nettype wire
