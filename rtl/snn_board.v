// snn_board: the board-independent part of a board build: snn_engine, net_loader,
// spi_flash_reader and host_link wired together (docs/board.md). A board top adds the clock,
// the reset and the pins. After reset the network image is booted from the SPI flash; the
// host then talks to the engine over the UART.
`default_nettype none

module snn_board #(
    parameter N_IN             = 784,      // engine parameters (snn_engine)
    parameter N_HID            = 128,
    parameter N_OUT            = 10,
    parameter T                = 16,
    parameter CODE_W0          = 2,
    parameter CODE_W1          = 2,
    parameter ACC_W            = 19,
    parameter MEM_W            = 21,
    parameter SCORE_W          = 13,
    parameter [63:0] THRESHOLD = 64'd1000,
    parameter LEAK_SHIFT       = 4,
    parameter RESET_SUBTRACT   = 1,
    parameter P_LIF            = 1,
    parameter LANES            = 0,        // engine accumulation lanes (0: the engine's default)
    parameter W0_SPRAM         = 1,        // 1: layer-0 weights in the UP5K SPRAMs
    parameter CLK_HZ           = 48000000, // clock of everything here
    parameter BAUD             = 3000000,  // UART; CLK_HZ / BAUD integer >= 8
    parameter FLASH_CLK_DIV    = 1,        // flash SCK = CLK_HZ / (2 * FLASH_CLK_DIV)
    parameter [23:0] NET_ADDR  = 24'h100000,
    parameter [23:0] TEST_ADDR = 24'h140000
) (
    input  wire       clk,
    input  wire       rst,        // synchronous, active high (synchronised by the caller)
    input  wire       rx,         // UART from the host
    output wire       tx,         // UART to the host
    output wire       spi_sck,    // SPI flash
    output wire       spi_cs_n,
    output wire       spi_mosi,
    input  wire       spi_miso,
    output wire [1:0] state       // 0 booting, 1 ready, 2 error (LEDs)
);

    localparam FIFO_DEPTH  = 1 << $clog2(N_IN);
    localparam CPW         = 64 / CODE_W0;            // codes per weight word
    localparam WPR         = (N_HID + CPW - 1) / CPW;
    localparam W0_AW       = (N_IN * WPR > 2) ? $clog2(N_IN * WPR) : 1;
    localparam HID_AW      = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam CLS_W       = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam WAKE_CYCLES = CLK_HZ / 250000 + 2;   // 4 us > tRES1 (3 us)

    // flash reader; its bytes pass a register slice (dropped at each start and stop of a read),
    // so the host link's and the loader's ready logic does not reach into the reader
    wire        fl_start, fl_stop, fl_valid, fl_ready, fr_valid, fr_ready;
    wire [23:0] fl_addr;
    wire [7:0]  fl_data, fr_data;
    wire        unused_fl_idle;
    spi_flash_reader #(.CLK_DIV(FLASH_CLK_DIV), .FAST_READ(0), .WAKE_CYCLES(WAKE_CYCLES)) u_flash (
        .clk(clk), .rst(rst), .start(fl_start), .addr(fl_addr), .stop(fl_stop), .idle(unused_fl_idle),
        .m_valid(fr_valid), .m_ready(fr_ready), .m_data(fr_data),
        .spi_sck(spi_sck), .spi_cs_n(spi_cs_n), .spi_mosi(spi_mosi), .spi_miso(spi_miso)
    );

    stream_reg #(.W(8)) u_fl (
        .clk(clk), .rst(rst | fl_start | fl_stop),
        .s_valid(fr_valid), .s_ready(fr_ready), .s_data(fr_data),
        .m_valid(fl_valid), .m_ready(fl_ready), .m_data(fl_data)
    );

    // loader
    wire                     ld_start, ld_valid, ld_ready, ld_mark, ld_rewind, ld_cancel;
    wire                     ld_busy, ld_loading, ld_net_valid;
    wire [7:0]               ld_data;
    wire [3:0]               ld_err;
    wire [31:0]              ld_crc;
    wire [383:0]             ld_header;
    wire                     w_we, w1_we;
    wire [W0_AW-1:0]         w_addr;
    wire [63:0]              w_data;
    wire [HID_AW-1:0]        w1_addr;
    wire [N_OUT*CODE_W1-1:0] w1_data;
    net_loader #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(CODE_W1),
        .THRESHOLD(THRESHOLD), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT)
    ) u_loader (
        .clk(clk), .rst(rst), .start(ld_start), .s_valid(ld_valid), .s_ready(ld_ready), .s_data(ld_data),
        .mark(ld_mark), .rewind(ld_rewind), .cancel(ld_cancel),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data), .w1_we(w1_we), .w1_addr(w1_addr), .w1_data(w1_data),
        .busy(ld_busy), .loading(ld_loading), .net_valid(ld_net_valid), .err_code(ld_err), .crc(ld_crc),
        .header(ld_header)
    );

    // engine
    localparam B_AW = ((N_HID + N_OUT) > 2) ? $clog2(N_HID + N_OUT) : 1;
    wire                     eng_rst, eng_valid, eng_ready, eng_m_valid, eng_m_ready, eng_busy;
    wire [7:0]               eng_data;
    // pixels pass a register slice: no path from the host link's FSM and the flash reader into
    // the engine's FIFO (the result release, eng_m_ready, is a flip-flop of the host link)
    wire                     px_valid, px_ready;
    wire [7:0]               px_data;
    stream_reg #(.W(8)) u_px (
        .clk(clk), .rst(rst | eng_rst),
        .s_valid(eng_valid), .s_ready(eng_ready), .s_data(eng_data),
        .m_valid(px_valid), .m_ready(px_ready), .m_data(px_data)
    );
    wire [CLS_W-1:0]         eng_class;
    wire [N_OUT*SCORE_W-1:0] eng_scores;
    snn_engine #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(CODE_W1),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(THRESHOLD), .LEAK_SHIFT(LEAK_SHIFT),
        .RESET_SUBTRACT(RESET_SUBTRACT), .P_LIF(P_LIF), .LANES(LANES), .FIFO_DEPTH(FIFO_DEPTH), .W0_SPRAM(W0_SPRAM),
        .W0_FILE(""), .W1_FILE("")
    ) u_engine (
        .clk(clk), .rst(rst | eng_rst),
        .s_valid(px_valid), .s_ready(px_ready), .s_data(px_data),
        .m_valid(eng_m_valid), .m_ready(eng_m_ready), .m_class(eng_class), .m_scores(eng_scores),
        .w_we(w_we), .w_addr(w_addr), .w_data(w_data),
        .w1_we(w1_we), .w1_addr(w1_addr), .w1_data(w1_data),
        // biases: image format version 1 has none (HAS_BIAS = 0 here), so the port is idle
        .b_we(1'b0), .b_addr({B_AW{1'b0}}), .b_data(64'd0),
        .busy(eng_busy),
        // trace outputs are for testbenches
        /* verilator lint_off PINCONNECTEMPTY */
        .trace_valid(), .trace_t(), .trace_n(), .trace_spike(), .trace_v(), .trace_layer()
        /* verilator lint_on PINCONNECTEMPTY */
    );

    host_link #(
        .CLK_HZ(CLK_HZ), .BAUD(BAUD), .N_IN(N_IN), .N_OUT(N_OUT), .SCORE_W(SCORE_W),
        .NET_ADDR(NET_ADDR), .TEST_ADDR(TEST_ADDR)
    ) u_link (
        .clk(clk), .rst(rst), .rx(rx), .tx(tx),
        .fl_start(fl_start), .fl_addr(fl_addr), .fl_stop(fl_stop),
        .fl_valid(fl_valid), .fl_ready(fl_ready), .fl_data(fl_data),
        .ld_start(ld_start), .ld_valid(ld_valid), .ld_ready(ld_ready), .ld_data(ld_data),
        .ld_mark(ld_mark), .ld_rewind(ld_rewind), .ld_cancel(ld_cancel),
        .ld_busy(ld_busy), .ld_loading(ld_loading), .ld_net_valid(ld_net_valid), .ld_err(ld_err),
        .ld_crc(ld_crc), .ld_header(ld_header),
        .eng_rst(eng_rst), .eng_valid(eng_valid), .eng_ready(eng_ready), .eng_data(eng_data),
        .eng_m_valid(eng_m_valid), .eng_m_ready(eng_m_ready), .eng_class(eng_class),
        .eng_scores(eng_scores), .eng_busy(eng_busy),
        .state(state)
    );

endmodule

`default_nettype wire
