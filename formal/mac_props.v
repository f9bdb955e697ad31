// Properties of mac: the accumulator equals a wide reference, acc = clamp(acc + round half up
// (a * b / 2^SHIFT)) per beat (SATURATE = 1, never wraps; modulo 2^ACC_W for SATURATE = 0);
// the product stage holds the product and last flag of the beat it took; a packet's result
// appears the cycle after its last product moves on and stays until m_ready; the last product
// of a packet waits while a result waits. f_* are the core's registers, connected by the .sby.
`default_nettype none

module mac_props #(
    parameter A_W      = 3,
    parameter A_SIGNED = 0,
    parameter B_W      = 3,
    parameter SHIFT    = 2,
    parameter ACC_W    = 4,
    parameter SATURATE = 1
) (
    input wire                  clk,
    input wire                  rst,
    input wire                  s_valid,
    input wire [A_W-1:0]        s_a,
    input wire signed [B_W-1:0] s_b,
    input wire                  s_last,
    input wire                  m_ready
);
    wire s_ready, m_valid;
    wire signed [ACC_W-1:0] m_acc;
    mac #(.A_W(A_W), .A_SIGNED(A_SIGNED), .B_W(B_W), .SHIFT(SHIFT), .ACC_W(ACC_W), .SATURATE(SATURATE)) dut (
        .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_a(s_a), .s_b(s_b), .s_last(s_last),
        .m_valid(m_valid), .m_ready(m_ready), .m_acc(m_acc));

`ifdef FORMAL
    localparam P_W = A_W + B_W;
    wire                    f_pv;    // dut.p_valid_q
    wire                    f_pl;    // dut.p_last_q
    wire signed [P_W-1:0]   f_p;     // dut.u_mul.p
    wire signed [ACC_W-1:0] f_acc;   // dut.acc_q

    reg f_init = 1'b0;
    always @(posedge clk) f_init <= 1'b1;
    always @(*) if (!f_init) assume (rst);

    localparam RW = P_W + ACC_W + 2;
    localparam signed [RW-1:0] VMAX = (1 <<< (ACC_W - 1)) - 1;
    localparam signed [RW-1:0] VMIN = -(1 <<< (ACC_W - 1));
    wire signed [RW-1:0] aw = (A_SIGNED != 0) ? {{(RW - A_W){s_a[A_W-1]}}, s_a} : {{(RW - A_W){1'b0}}, s_a};
    wire signed [RW-1:0] bw = {{(RW - B_W){s_b[B_W-1]}}, s_b};
    reg  signed [P_W-1:0] ref_p;     // product of the beat in the product stage (fits P_W bits)
    wire signed [RW-1:0] ref_pw = {{(RW - P_W){ref_p[P_W-1]}}, ref_p};
    wire signed [RW-1:0] prod   = aw * bw;
    reg                  ref_pl;
    reg  signed [ACC_W-1:0] ref_acc;
    // round half up: floor((p + 2^(SHIFT-1)) / 2^SHIFT), floor written with division
    wire signed [RW-1:0] pow  = 1 <<< SHIFT;
    wire signed [RW-1:0] num  = (SHIFT == 0) ? ref_pw : ref_pw + (pow >>> 1);
    wire signed [RW-1:0] r    = (num >= 0) ? num / pow : -((-num + pow - 1) / pow);
    wire signed [RW-1:0] wide = {{(RW - ACC_W){ref_acc[ACC_W-1]}}, ref_acc} + r;
    wire signed [RW-1:0] fixd = (SATURATE == 0) ? wide : (wide > VMAX) ? VMAX : (wide < VMIN) ? VMIN : wide;
    wire signed [ACC_W-1:0] ref_d = fixd[ACC_W-1:0];

    wire fire   = s_valid & s_ready;
    wire p_fire = f_pv & (!f_pl | !m_valid | m_ready);  // the documented back-pressure rule
    always @(posedge clk) begin
        if (fire) begin
            ref_p  <= prod[P_W-1:0];
            ref_pl <= s_last;
        end
        if (rst) ref_acc <= {ACC_W{1'b0}};
        else if (p_fire) ref_acc <= f_pl ? {ACC_W{1'b0}} : ref_d;
    end

    always @(*) begin
        assert (s_ready == (!f_pv || p_fire));
        if (f_init && !rst) assert (f_acc == ref_acc);
        if (f_init && f_pv) begin
            assert (f_p == ref_p);
            assert (f_pl == ref_pl);
        end
    end
    always @(posedge clk)
        if (f_init && !$past(rst) && !rst) begin
            if ($past(p_fire && f_pl)) assert (m_valid && m_acc == $past(ref_d));
            if ($past(m_valid && !m_ready)) assert (m_valid && m_acc == $past(m_acc));
            if (!$past(m_valid) && m_valid) assert ($past(p_fire && f_pl));
        end
    always @(posedge clk)
        if (f_init && $past(rst)) assert (!m_valid && !f_pv);

    always @(posedge clk) begin
        cover (f_init && !rst && m_valid && m_acc == VMAX[ACC_W-1:0]);
        cover (f_init && !rst && m_valid && m_acc == VMIN[ACC_W-1:0]);
        cover (f_init && !rst && m_valid && !m_ready && f_pv && f_pl);  // a last product waits
    end
`endif
endmodule

`default_nettype wire
