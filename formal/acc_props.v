// Properties of ternary_acc and binary_acc: the accumulator equals a wide reference clamped to
// ACC_W after every beat (SATURATE = 1; never wraps) or reduced modulo 2^ACC_W (SATURATE = 0),
// a packet's result appears the cycle after its last beat and stays, with m_valid, until
// m_ready; s_ready = !m_valid | m_ready. f_acc is the core's accumulator register, connected
// by the .sby script (Yosys reads no hierarchical references).
`default_nettype none

module acc_props #(
    parameter ACC_W    = 6,
    parameter X_W      = 4,
    parameter X_SIGNED = 0,
    parameter SATURATE = 1,
    parameter BINARY   = 0   // 1: binary_acc (s_code[0]: 0 = +1, 1 = -1); 0: ternary_acc
) (
    input wire           clk,
    input wire           rst,
    input wire           s_valid,
    input wire [X_W-1:0] s_x,
    input wire [1:0]     s_code,
    input wire           s_last,
    input wire           m_ready
);
    wire s_ready, m_valid;
    wire signed [ACC_W-1:0] m_acc;
    generate
        if (BINARY != 0) begin : g_bin
            binary_acc #(.ACC_W(ACC_W), .X_W(X_W), .X_SIGNED(X_SIGNED), .SATURATE(SATURATE)) dut (
                .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_x(s_x),
                .s_code(s_code[0]), .s_last(s_last), .m_valid(m_valid), .m_ready(m_ready), .m_acc(m_acc));
        end else begin : g_ter
            ternary_acc #(.ACC_W(ACC_W), .X_W(X_W), .X_SIGNED(X_SIGNED), .SATURATE(SATURATE)) dut (
                .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_x(s_x),
                .s_code(s_code), .s_last(s_last), .m_valid(m_valid), .m_ready(m_ready), .m_acc(m_acc));
        end
    endgenerate

`ifdef FORMAL
    wire signed [ACC_W-1:0] f_acc;  // the core's acc_q (connect -set in the .sby)

    reg f_init = 1'b0;              // reset in the first cycle
    always @(posedge clk) f_init <= 1'b1;
    always @(*) if (!f_init) assume (rst);

    localparam RW = ACC_W + X_W + 2;
    localparam signed [RW-1:0] VMAX = (1 <<< (ACC_W - 1)) - 1;
    localparam signed [RW-1:0] VMIN = -(1 <<< (ACC_W - 1));
    wire signed [RW-1:0] xw = (X_SIGNED != 0) ? {{(RW - X_W){s_x[X_W-1]}}, s_x} : {{(RW - X_W){1'b0}}, s_x};
    wire signed [RW-1:0] cx = (BINARY != 0) ? (s_code[0] ? -xw : xw)
                            : (s_code == 2'b01) ? xw : (s_code == 2'b11) ? -xw : {RW{1'b0}};
    reg  signed [ACC_W-1:0] ref_q;
    wire signed [RW-1:0] wide = {{(RW - ACC_W){ref_q[ACC_W-1]}}, ref_q} + cx;
    wire signed [RW-1:0] fixd = (SATURATE == 0) ? wide
                              : (wide > VMAX) ? VMAX : (wide < VMIN) ? VMIN : wide;
    wire signed [ACC_W-1:0] ref_d = fixd[ACC_W-1:0];
    wire fire = s_valid & s_ready;
    always @(posedge clk)
        if (rst) ref_q <= {ACC_W{1'b0}};
        else if (fire) ref_q <= s_last ? {ACC_W{1'b0}} : ref_d;

    always @(*) begin
        if (f_init) assert (f_acc == ref_q);        // accumulator = clamped (or wrapped) reference
        assert (s_ready == (!m_valid || m_ready));  // a beat is refused only while a result waits
    end
    always @(posedge clk)
        if (f_init && !$past(rst) && !rst) begin
            // a packet's result: the reference including its last beat, the cycle after
            if ($past(fire && s_last)) assert (m_valid && m_acc == $past(ref_d));
            // a waiting result stays until taken
            if ($past(m_valid && !m_ready)) assert (m_valid && m_acc == $past(m_acc));
            // m_valid rises only on a packet's last beat
            if (!$past(m_valid) && m_valid) assert ($past(fire && s_last));
        end
    always @(posedge clk)
        if (f_init && $past(rst)) assert (!m_valid);

    always @(posedge clk) begin
        cover (f_init && !rst && m_valid && m_acc == VMAX[ACC_W-1:0]);
        cover (f_init && !rst && m_valid && m_acc == VMIN[ACC_W-1:0]);
        cover (f_init && !rst && m_valid && !m_ready && s_valid);   // back-pressure
    end
`endif
endmodule

`default_nettype wire
