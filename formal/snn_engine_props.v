// Properties of snn_engine's control at tiny parameters (2-2-2 network, T = 2, a 2-entry
// FIFO): the result handshake (m_valid, m_class and m_scores stay until m_ready), s_ready =
// FIFO not full, FIFO count/pointer/flag consistency, no image lost or duplicated (images in =
// results out + images in flight), state-register ranges, and the ring-clear invariant (every
// current ring is 0 while the engine is idle, so no image sees another's currents).
// f_* are the engine's registers, connected by the .sby script (see snn_engine.sby).
`default_nettype none

module snn_engine_props #(
    parameter N_IN  = 2,
    parameter N_HID = 2,
    parameter N_OUT = 2,
    parameter T     = 2
) (
    input wire        clk,
    input wire        rst,
    input wire        s_valid,
    input wire [7:0]  s_data,
    input wire        m_ready,
    input wire        w_we,
    input wire        w_addr,
    input wire [63:0] w_data
);
    localparam CODE_W0 = 2, ACC_W = 11, MEM_W = 6, SCORE_W = 3, FIFO_DEPTH = 2;
    localparam CLS_W = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    wire                     s_ready, m_valid, busy, trace_valid;
    wire [CLS_W-1:0]         m_class;
    wire [N_OUT*SCORE_W-1:0] m_scores;
    wire [7:0]               trace_t;
    wire [0:0]               trace_n;
    wire [0:0]               trace_spike;
    wire [MEM_W-1:0]         trace_v;

    snn_engine #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(2),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(64'd5), .LEAK_SHIFT(1),
        .RESET_SUBTRACT(1), .P_LIF(1), .FIFO_DEPTH(FIFO_DEPTH), .W0_SPRAM(0)
    ) dut (
        .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data), .busy(busy),
        .trace_valid(trace_valid), .trace_t(trace_t), .trace_n(trace_n),
        .trace_spike(trace_spike), .trace_v(trace_v)
    );

`ifdef FORMAL
    wire [2:0]       f_state;     // dut.state_q
    wire [1:0]       f_ram_cnt;   // dut.ram_cnt_q
    wire             f_ram_ne;    // dut.ram_ne_q
    wire             f_wptr;      // dut.wptr_q
    wire             f_rptr;      // dut.rptr_q
    wire             f_hv;        // dut.hv_q
    wire [1:0]       f_img_cnt;   // dut.img_cnt_q
    wire             f_img_in;    // dut.img_in_q
    wire [7:0]       f_t;         // dut.t_q
    wire             f_j;         // dut.j_q
    wire             f_arg;       // dut.arg_q
    wire [2:0]       f_cnt;       // dut.cnt_q
    wire [ACC_W-1:0] f_ring0;     // dut.g_lane[0].tail_q  (hidden neuron 0)
    wire [ACC_W-1:0] f_ring1;     // dut.g_lane[1].tail_q  (hidden neuron 1)
    wire [ACC_W-1:0] f_ring31;    // dut.g_lane[31].tail_q (a padding lane)
    wire             f_pix;       // dut.pix_q

    localparam [2:0] S_IDLE = 3'd0, S_L0 = 3'd1, S_DRAIN = 3'd2, S_LIF = 3'd3,
                     S_TAIL = 3'd4, S_ARG = 3'd5, S_OUT = 3'd6;

    reg f_init = 1'b0;
    always @(posedge clk) f_init <= 1'b1;
    always @(*) if (!f_init) assume (rst);

    // images in minus results out (an image is in when its last pixel is accepted)
    wire s_fire  = s_valid & s_ready;
    wire img_acc = s_fire & (f_pix == N_IN - 1);
    wire res_out = m_valid & m_ready;
    reg  [3:0] f_diff;
    always @(posedge clk)
        if (rst) f_diff <= 4'd0;
        else f_diff <= f_diff + {3'd0, img_acc} - {3'd0, res_out};
    wire [3:0] in_flight = {2'b00, f_img_cnt} + {3'd0, f_img_in}
                         + {3'd0, (f_state >= S_DRAIN) && (f_state <= S_OUT)} + {3'd0, m_valid};

    always @(*)
        if (f_init && !rst) begin
            // FIFO
            assert (f_ram_cnt <= FIFO_DEPTH);
            assert (s_ready == (f_ram_cnt != FIFO_DEPTH));
            assert (f_ram_ne == (f_ram_cnt != 2'd0));
            assert (f_ram_cnt[0] == (f_wptr ^ f_rptr));
            assert (f_img_cnt + f_img_in <= f_ram_cnt + f_hv);
            // no image lost or duplicated
            assert (f_diff == in_flight);
            // state-register ranges
            assert (f_state <= S_OUT);
            assert (f_t <= T);
            if (f_state == S_LIF) assert (f_t < T);
            assert (f_j < N_HID);
            assert (f_arg < N_OUT);
            if (f_state == S_DRAIN || f_state == S_TAIL) assert (f_cnt <= 3'd3);
            assert (f_pix < N_IN);
            // ring-clear invariant
            if (f_state == S_IDLE || f_state == S_OUT || f_state == S_ARG) begin
                assert (f_ring0 == {ACC_W{1'b0}});
                assert (f_ring1 == {ACC_W{1'b0}});
                assert (f_ring31 == {ACC_W{1'b0}});
            end
            // busy: computing, and not parked in S_OUT behind an unread result
            assert (busy == ((f_state != S_IDLE) && !(f_state == S_OUT && m_valid && !m_ready)));
        end
    always @(posedge clk)
        if (f_init && !$past(rst) && !rst) begin
            // a waiting result stays, unchanged, until m_ready
            if ($past(m_valid && !m_ready))
                assert (m_valid && m_class == $past(m_class) && m_scores == $past(m_scores));
        end
    always @(posedge clk)
        if (f_init && $past(rst)) assert (!m_valid && f_state == S_IDLE && f_ram_cnt == 2'd0);

    always @(posedge clk) begin
        cover (f_init && !rst && res_out);                       // a result leaves
        cover (f_init && !rst && m_valid && !m_ready && !s_ready);  // a result waits, input refused
        cover (f_init && !rst && f_diff == 4'd3);                // three images in flight
    end
`endif
endmodule

`default_nettype wire
